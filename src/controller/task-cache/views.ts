// What the task caches answer besides Tasks and TaskPages: the progress view, the execution summary and the store
// statistics, built from the stored task and (when a reader is given) Skalds' wire state of its run.
import type { TaskLifecycleStatus } from '../../model/enums.ts'
import type { Task } from '../../model/task.ts'
import type { TaskState } from '../../state/reader.ts'
import type { StatusCounts } from '../../store/task-store.ts'

/**
 * Where a view's run state (progress, heartbeat, log, checkpoint time) came from: `read` from the Skald state,
 * `none` when no reader was given (the view holds the stored task only), `unavailable` when the reader failed (the
 * view is answered but never cached, so it is read again next time).
 */
export type TaskStateSource = 'read' | 'none' | 'unavailable'

/** `progress(id)`: how far the current run is, and who runs it. */
export interface TaskProgressView {
  taskId: string
  lifecycleStatus: TaskLifecycleStatus
  /** the Skald the task is assigned to; null = unassigned */
  executor: string | null
  /** the run's ownership epoch (`runtime.epoch`) */
  epoch: number
  /** runs started so far (`runtime.attempt`) */
  attempt: number
  /** the last progress the current run reported; null when it reported none (or only an earlier run did) */
  progress: { value: number; message: string | null; reportedAt: number } | null
  /** the newest log lines of the task (at most {@link MAX_VIEW_LOG_LINES}), oldest first */
  log: string[]
  state: TaskStateSource
  /** epoch ms this view was read from the store and the state */
  readAt: number
}

/** `execution(id)`: one run at a glance, for an operator. */
export interface TaskExecutionSummary {
  taskId: string
  lifecycleStatus: TaskLifecycleStatus
  executor: string | null
  epoch: number
  attempt: number
  /** retries allowed after the first run; null = the worker class's default */
  maxRetries: number | null
  /** why the last run failed (`runtime.lastError`); null = none recorded */
  lastError: string | null
  /** `task:{id}:exception` as the run wrote it; null when none (or the state was not read) */
  exception: string | null
  /** `task:{id}:heartbeat` (missing reads 0, as Python's monitor reads it); null when the state was not read */
  heartbeat: { value: number; present: boolean } | null
  /** the current run's last progress, 0..100; null when none */
  progress: number | null
  /**
   * the checkpoint to resume from: its JSON size in bytes, and when the run wrote it (epoch ms) when the state holds
   * the current run's; null = no checkpoint
   */
  checkpoint: { bytes: number; savedAt: number | null } | null
  /** epoch ms the task was paused; null when not paused */
  pausedAt: number | null
  /** the task's `updateDateTime`, epoch ms */
  updatedAt: number
  state: TaskStateSource
  /** epoch ms this summary was read */
  readAt: number
}

/** `statistics()`: the store's part of the dashboard summary. */
export interface TaskStatistics {
  /** tasks per lifecycle status (0 for absent ones) */
  byStatus: StatusCounts
  /** all tasks */
  total: number
  /** distinct non-empty class names, sorted */
  classNames: string[]
  /** epoch ms these were read from the store */
  readAt: number
}

/** Log lines a progress view carries at most (the newest). */
export const MAX_VIEW_LOG_LINES = 200

const utf8 = new TextEncoder()

export function progressView(task: Task, state: TaskState | undefined, source: TaskStateSource, readAt: number): TaskProgressView {
  const epoch = task.runtime.epoch
  const p = state?.progress
  return {
    taskId: task.id,
    lifecycleStatus: task.lifecycleStatus,
    executor: task.executor,
    epoch,
    attempt: task.runtime.attempt,
    progress: p !== undefined && p.epoch === epoch ? { value: p.value, message: p.message ?? null, reportedAt: p.timestamp } : null,
    log: state === undefined ? [] : state.log.slice(-MAX_VIEW_LOG_LINES),
    state: source,
    readAt,
  }
}

export function executionSummary(task: Task, state: TaskState | undefined, source: TaskStateSource, readAt: number): TaskExecutionSummary {
  const epoch = task.runtime.epoch
  const p = state?.progress
  return {
    taskId: task.id,
    lifecycleStatus: task.lifecycleStatus,
    executor: task.executor,
    epoch,
    attempt: task.runtime.attempt,
    maxRetries: task.runtime.maxRetries,
    lastError: task.runtime.lastError,
    exception: state?.exception ?? null,
    heartbeat: state === undefined ? null : { value: state.heartbeat, present: state.heartbeatPresent },
    progress: p !== undefined && p.epoch === epoch ? p.value : null,
    checkpoint: checkpointOf(task, state),
    pausedAt: task.runtime.pausedAt,
    updatedAt: task.updateDateTime,
    state: source,
    readAt,
  }
}

/** The current run's checkpoint in the state (written each tick) is the newest; else the one stored with the task. */
function checkpointOf(task: Task, state: TaskState | undefined): TaskExecutionSummary['checkpoint'] {
  const live = state?.checkpoint
  if (live !== undefined && live.epoch === task.runtime.epoch) return { bytes: jsonBytes(live.state), savedAt: live.timestamp }
  const stored = task.runtime.checkpoint
  return stored === null ? null : { bytes: jsonBytes(stored), savedAt: null }
}

function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value) ?? 'null').length
}

export function statisticsOf(byStatus: StatusCounts, classNames: string[], readAt: number): TaskStatistics {
  let total = 0
  for (const n of Object.values(byStatus)) total += n
  return { byStatus, total, classNames, readAt }
}
