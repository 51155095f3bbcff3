// The manager's record of one task it owns: the assignment (epoch), the current run or the pending retry, and
// the checkpoint to save.
import type { JsonValue, Task } from '../model/task.ts'
import type { AbortReason } from '../worker/abort-reason.ts'
import type { Isolation } from '../worker/definition.ts'
import type { TaskOutcome, TaskRun, WorkerRef } from '../worker/host.ts'
import type { EndedStatus, IgnoredReason } from './node-events.ts'

/** One registered worker class. */
export interface WorkerClass {
  worker: WorkerRef
  /** the host its tasks run on; default `process` */
  isolation?: Isolation
  /** tasks of this class at once on this node; default: only the node limit */
  maxConcurrent?: number
  /** retries after the first run when the task does not say (`runtime.maxRetries`); default the manager's */
  maxRetries?: number
}

/** What became of an assignment the manager was handed (`admit`). */
export type AdmitResult =
  | { kind: 'started'; epoch: number; ended: Promise<EndedStatus> }
  | { kind: 'ignored'; reason: IgnoredReason }
  /** refused before any worker ran: stored Failed with the reason (or, node mode at capacity, back to Created) */
  | { kind: 'rejected'; code: string; reason: string }

export interface LocalTask {
  readonly id: string
  readonly className: string
  readonly cls: WorkerClass
  /** the assignment this node runs under: every write expects it */
  readonly epoch: number
  /** the task as last read or written */
  task: Task
  /** runtime.attempt of the current (or last) run */
  attempt: number
  /** undefined while waiting to retry */
  run: TaskRun | undefined
  retryTimer: NodeJS.Timeout | undefined
  /** cancel or pause asked for while it ran: no local retry afterwards */
  stopping: 'cancelled' | 'paused' | undefined
  /** another assignment owns the task: write nothing more */
  superseded: boolean
  /** a fenced write found the task stored Cancelled under this very assignment (cancelled through the API meanwhile) */
  cancelledInStore?: boolean
  lastCheckpoint: JsonValue | null
  savedCheckpoint: JsonValue | null
  /** frozen in place by a freeze-mode pause (stored Paused) */
  frozen: boolean
  /** called once when the current run reports `started` (a pause that arrived while the child booted waits) */
  onStarted: Array<() => void>
  /** resolved when the manager let go of the task (outcome written, or superseded) */
  readonly ended: PromiseWithResolvers<EndedStatus>
}

export function newLocalTask(task: Task, cls: WorkerClass): LocalTask {
  return {
    id: task.id,
    className: task.className,
    cls,
    epoch: task.runtime.epoch,
    task,
    attempt: task.runtime.attempt,
    run: undefined,
    retryTimer: undefined,
    stopping: undefined,
    superseded: false,
    frozen: false,
    onStarted: [],
    lastCheckpoint: task.runtime.checkpoint,
    savedCheckpoint: task.runtime.checkpoint,
    ended: Promise.withResolvers<EndedStatus>(),
  }
}

/** The store still says this node owns the assignment `epoch`. */
export function ownedBy(task: Task, epoch: number, skaldId: string): boolean {
  return task.runtime.epoch === epoch && task.executor === skaldId
}

/** The outcome of a run that was stopped while it waited to retry (no worker ran). */
export function syntheticOutcome(taskId: string, reason: AbortReason): TaskOutcome {
  return { taskId, exitCode: null, signal: null, stderrTail: [], checkpoint: undefined, durationMs: 0, status: 'aborted', reason, forced: null }
}
