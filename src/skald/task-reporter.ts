// What the task manager tells the node's wire-state writer (Redis heartbeats, terminal codes, exceptions). The
// writer itself is built apart (src/skald, branch `skald`); this is the small seam the manager needs, so the two can
// be wired together without either importing the other's internals.
import type { JsonValue } from '../worker/json.ts'

/** How a task run ended, as the wire-state writer needs it. */
export type ReportedEnding =
  /** heartbeat 200 */
  | { status: 'finished' }
  /** heartbeat −1 and `task:{id}:exception` = error */
  | { status: 'failed'; error: string }
  /** heartbeat −2 */
  | { status: 'cancelled' }
  /** no terminal code: the task waits with its checkpoint to be resumed */
  | { status: 'paused' }
  /** no terminal code: the node shut down and the task is to be dispatched again */
  | { status: 'requeued' }
  /** the task belongs to another assignment now: stop writing for it, write nothing terminal */
  | { status: 'superseded' }

/**
 * Calls arrive only while the manager still owns the task under `epoch` (every store write before them passed the
 * epoch compare-and-set), so an implementation never has to fence on its own. Calls must not throw and should not
 * block: the manager does not await them.
 */
export interface TaskReporter {
  /** a run of the task began (also each local retry) */
  started(taskId: string, epoch: number, className: string): void
  /** the worker's event loop is turning (heartbeat-worthy) */
  alive(taskId: string, epoch: number): void
  /** progress in percent 0–100 */
  progress(taskId: string, epoch: number, value: number, message: string | null): void
  /** the worker's latest checkpoint */
  checkpoint(taskId: string, epoch: number, state: JsonValue): void
  /** a line of the task's log (its logger, stdout, stderr, or the host), as `[source] line` */
  log(taskId: string, epoch: number, line: string): void
  /** the run ended; the last call for this task and epoch */
  ended(taskId: string, epoch: number, ending: ReportedEnding): void
}

/** A reporter that writes nothing: for a node without Redis, and for tests that do not look. */
export const silentTaskReporter: TaskReporter = {
  started: () => {},
  alive: () => {},
  progress: () => {},
  checkpoint: () => {},
  log: () => {},
  ended: () => {},
}
