// Why a running task is asked to stop: the typed reason behind `ctx.signal` and a host's `abort(reason)`.

export const AbortReason = {
  /** the task was cancelled (API cancel, `task.cancel`) */
  Cancelled: 'cancelled',
  /** cooperative pause: the worker should checkpoint; it resumes later, maybe on another node */
  Paused: 'paused',
  /** the task's deadlineDateTime passed */
  Deadline: 'deadline',
  /** the node (or the worker's host) is shutting down; the task is to be dispatched again */
  Shutdown: 'shutdown',
  /** another assignment (a newer epoch) owns the task now */
  Superseded: 'superseded',
} as const
export type AbortReason = (typeof AbortReason)[keyof typeof AbortReason]
export const ABORT_REASONS: readonly AbortReason[] = Object.values(AbortReason)
