// The Disk Storage interface: one TaskStore, implemented on SQLite (embedded) and MongoDB (Skalds' schema).
import type { ModeEnum, TaskLifecycleStatus } from '../model/enums.ts'
import type { Task, TaskInput, TaskPatch, TaskRuntimePatch } from '../model/task.ts'

/** Which tasks a list or count applies to. Every given condition must hold. */
export interface TaskFilter {
  /** one status, or any of several */
  lifecycleStatus?: TaskLifecycleStatus | readonly TaskLifecycleStatus[]
  /** one class name, or any of several (exact, case-sensitive) */
  className?: string | readonly string[]
  /** exact executor id; `null` = unassigned */
  executor?: string | null
  /** one mode, or any of several */
  mode?: ModeEnum | readonly ModeEnum[]
  /**
   * Case-insensitive substring of `id` or `name`. Taken literally: `%`, `_`, `.`, `*`, `[` … match
   * themselves; it is never used as a pattern or a regular expression.
   */
  text?: string
  /** createDateTime ≥ this, epoch ms */
  createdFrom?: number
  /** updateDateTime ≥ this, epoch ms */
  updatedFrom?: number
}

export const TASK_SORT_FIELDS = ['createDateTime', 'updateDateTime', 'deadlineDateTime', 'priority', 'id', 'className', 'lifecycleStatus'] as const
export type TaskSortField = (typeof TASK_SORT_FIELDS)[number]

export interface TaskSort {
  field: TaskSortField
  /** default `asc` */
  direction?: 'asc' | 'desc'
}

export interface TaskListQuery extends TaskFilter {
  /**
   * sort keys in order; default createDateTime desc (as the Python REST API). `id` always breaks ties, in the
   * direction of the last key (`createDateTime desc` is `createDateTime desc, id desc`), unless it is a key itself.
   */
  sort?: TaskSort | readonly TaskSort[]
  /** tasks to skip; default 0 */
  offset?: number
  /** page size, 1..{@link MAX_LIST_LIMIT}; default {@link DEFAULT_LIST_LIMIT} */
  limit?: number
}

export const DEFAULT_LIST_LIMIT = 100
export const MAX_LIST_LIMIT = 10_000

export interface TaskPage {
  items: Task[]
  /** number of tasks matching the filter, ignoring offset and limit */
  total: number
  offset: number
  limit: number
}

/** Conditions an update applies under (compare-and-set); a failed condition throws TaskConflictError. */
export interface TaskUpdateOptions {
  /**
   * The `updateDateTime` the caller read. The update applies only if the stored value is still this one,
   * i.e. nobody (TS or Python) changed the task through a writer that sets `updateDateTime` since.
   */
  expectedUpdateDateTime?: number
  /**
   * Field values that must still hold. Use them for the fields the Python dispatcher writes without touching
   * `updateDateTime` (`executor`, `lifecycleStatus`): e.g. assign only if still Created and unassigned.
   */
  expect?: {
    lifecycleStatus?: TaskLifecycleStatus | readonly TaskLifecycleStatus[]
    /** `null` = must be unassigned */
    executor?: string | null
    /** `runtime.epoch` (the ownership fencing token) must still be this; a task without `runtime` has epoch 0 */
    epoch?: number
  }
  /**
   * The task as the caller last read or wrote it. A store whose read and write are separate round trips (MongoDB)
   * first tries the write on top of it, compare-and-set on its `updateDateTime`, and reads only when it has changed
   * since: one round trip less when it has not. Never changes the outcome: conditions are judged on what is stored.
   */
  current?: Task
}

/** A task's id and change token: what a change feed reads first, to fetch only the tasks it has not seen. */
export interface TaskStamp {
  id: string
  /** epoch ms; every write moves it (see {@link TaskStore.update}) */
  updateDateTime: number
}

/** A page of {@link TaskStore.changedSince}. */
export interface TaskStampPage {
  /** stamps to skip; default 0 */
  offset?: number
  /** page size, 1..{@link MAX_LIST_LIMIT}; default {@link DEFAULT_LIST_LIMIT} */
  limit?: number
}

/** An assignment: see {@link TaskStore.claim}. */
export interface TaskClaimOptions {
  /** the Skald that will run the task */
  executor: string
  /** the epoch the caller read; default: the current one, read first (then only the epoch check guards the race) */
  expectEpoch?: number
  /** the task must be in one of these statuses (e.g. Created, Failed for a dispatcher) */
  expectStatus?: TaskLifecycleStatus | readonly TaskLifecycleStatus[]
  /** the status to set; default `Assigning` */
  lifecycleStatus?: TaskLifecycleStatus
  /** other runtime fields to set in the same write (e.g. clear `pausedAt` on resume); `epoch` is always expectEpoch + 1 */
  runtime?: Omit<TaskRuntimePatch, 'epoch'>
}

export type StatusCounts = Record<TaskLifecycleStatus, number>

/** One state change in a task's timeline: what a controller saw the task become, and on which node. */
export interface TimelineEntry {
  taskId: string
  /** the task's `updateDateTime` at this change, epoch ms */
  at: number
  lifecycleStatus: TaskLifecycleStatus
  /** the node it was assigned to (or ran on) at this change; null when none */
  executor: string | null
  /** the task's run count at this change (`runtime.attempt`; the first run is 1) */
  attempt: number
  /** why, where known (the last error of a failed run); null otherwise */
  message: string | null
}

/** Entries a timeline keeps per task: older ones are dropped when the task goes back to Created (a new attempt). */
export const TIMELINE_MAX_ENTRIES = 200

export interface TaskStore {
  /** `sqlite` or `mongodb` */
  readonly kind: string
  /**
   * True when the store itself records every change in the timeline, whoever writes it (SQLite: triggers in the
   * file); a controller then leaves out re-recording what its change feed saw. False on MongoDB, where a writer
   * outside this library (a Python controller or node) leaves gaps that only a feed can fill.
   */
  readonly timelineRecordsEveryWriter: boolean
  /**
   * Validates and inserts a new task (defaults filled as the Python model does) and returns it.
   * @throws TaskValidationError, TaskExistsError
   */
  create(input: TaskInput): Promise<Task>
  /** The task, or null when absent. */
  get(id: string): Promise<Task | null>
  /** The tasks that exist among `ids`, in the order of `ids`, each once. */
  getMany(ids: readonly string[]): Promise<Task[]>
  /**
   * Applies `patch` and sets `updateDateTime` to max(now, previous + 1), so every change moves the token.
   * Without options the patch always applies (it retries internally on races; fields not in the patch are
   * untouched). With options it is a compare-and-set.
   * @throws TaskValidationError, TaskNotFoundError, TaskConflictError
   */
  update(id: string, patch: TaskPatch, options?: TaskUpdateOptions): Promise<Task>
  /**
   * Assigns the task to `executor` and raises its ownership epoch by one, in one compare-and-set on the epoch
   * (and the status, when `expectStatus` is given): of two claimers that read the same epoch exactly one wins,
   * the other gets TaskConflictError with the winner's task as `current`.
   * @throws TaskNotFoundError, TaskConflictError, TaskValidationError
   */
  claim(id: string, options: TaskClaimOptions): Promise<Task>
  /** A page of tasks matching the query, sorted. */
  list(query?: TaskListQuery): Promise<TaskPage>
  /**
   * The tasks of the page `list(query)` gives, without its `total`: no count over every match. A reader that pages
   * on without showing a total (the dispatcher behind a backlog of Created tasks) skips what is most of list's cost.
   * @throws TaskQueryError on an invalid filter, sort, offset or limit
   */
  listItems(query?: TaskListQuery): Promise<Task[]>
  /**
   * The stamp of every task changed at or after `updatedFrom` (epoch ms, inclusive), oldest change first, ties by
   * id: the page `list({ updatedFrom, sort: updateDateTime asc })` would give, without reading or decoding the tasks
   * (one index read). A change feed re-reads a window of recent changes on every poll; it reads whole tasks
   * (getMany) only for the stamps it has not seen.
   * @throws TaskQueryError on an invalid `updatedFrom`, offset or limit
   */
  changedSince(updatedFrom: number, page?: TaskStampPage): Promise<TaskStamp[]>
  /** Number of tasks matching the filter. */
  count(filter?: TaskFilter): Promise<number>
  /** Number of tasks in every status (0 for absent ones) among those matching the filter. */
  countByStatus(filter?: TaskFilter): Promise<StatusCounts>
  /** Distinct non-empty class names, sorted. */
  distinctClassNames(): Promise<string[]>
  /**
   * Records state changes in their tasks' timelines. An entry already recorded (same task, `at` and status) is
   * skipped, so several controllers may record the change they all saw. When an entry is `Created` (a new attempt
   * begins there), the task's timeline is cut to its newest {@link TIMELINE_MAX_ENTRIES}: between two attempts a
   * task passes through a handful of statuses only, so no timeline grows past that bound by more than a few entries.
   * @throws TaskValidationError on an entry that is not valid
   */
  appendTimeline(entries: readonly TimelineEntry[]): Promise<void>
  /** A task's timeline, oldest first: its newest `limit` entries (default and most {@link TIMELINE_MAX_ENTRIES}). */
  timeline(taskId: string, limit?: number): Promise<TimelineEntry[]>
  /** Deletes the task (and its timeline); true when it existed. */
  delete(id: string): Promise<boolean>
  /** Releases the connection/file. Idempotent. */
  close(): Promise<void>
}
