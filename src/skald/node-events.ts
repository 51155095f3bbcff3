// The events a node-mode manager consumes (wire §2.2, plus the TS-only pause topic) and the events it emits for
// observability and tests.
import { taskEventSchema } from '../model/events.ts'
import { Topic, TsTopic } from '../model/topics.ts'
import type { WorkerEvent } from '../worker/host.ts'

// The TS-only topics live with the wire's (src/model/topics.ts); these names stay for the node's users.
export const TASK_PAUSE_TOPIC = TsTopic.TaskPause
export const TASK_RESUME_TOPIC = TsTopic.TaskResume
export const TASK_REQUEUED_TOPIC = TsTopic.TaskRequeued
export { taskEventSchema }

/** The topics a node-mode manager subscribes to, each with the node's own group (broadcast). */
export const NODE_TOPICS = [Topic.TaskAssign, Topic.TaskCancel, Topic.TaskUpdateAttachment, TASK_PAUSE_TOPIC, TASK_RESUME_TOPIC] as const
export type NodeTopic = (typeof NODE_TOPICS)[number]

/**
 * A single_process manager takes no `task.assign`: its one task comes from the YAML file. (An edge Skald does take
 * it, for the resume of a paused YAML task: a dispatcher never sends it anything else, as it registers as `edge`.)
 */
export const SINGLE_PROCESS_TOPICS = [Topic.TaskCancel, Topic.TaskUpdateAttachment, TASK_PAUSE_TOPIC, TASK_RESUME_TOPIC] as const

/** Why an assignment started nothing. */
export type IgnoredReason = 'not-found' | 'other-executor' | 'already-running' | 'terminal-status' | 'draining' | 'superseded'

/** How the manager let go of a task: the status it stored, or `superseded` / `not-written` (the store failed). */
export type EndedStatus = 'Finished' | 'Failed' | 'Cancelled' | 'Paused' | 'Created' | 'superseded' | 'not-written'

/** What the manager did, in order, for logs, metrics and tests. Listeners must not throw. */
export type NodeEvent =
  | { type: 'assign-ignored'; taskId: string; reason: IgnoredReason }
  | { type: 'task-started'; taskId: string; epoch: number; attempt: number; className: string }
  /** a local retry is scheduled after a failed run */
  | { type: 'task-retrying'; taskId: string; epoch: number; attempt: number; delayMs: number; error: string }
  /** the run ended and the store says `status` (or nothing was written: superseded) */
  | { type: 'task-ended'; taskId: string; epoch: number; status: EndedStatus }
  /** a bad assignment failed the task before any worker started (unknown class, capacity, deadline passed) */
  | { type: 'task-rejected'; taskId: string; code: string; reason: string }
  | { type: 'update-forwarded'; taskId: string; accepted: boolean; reason?: string }
  /** a freeze-mode pause stopped the child in place (stored Paused), or a resume let it go on (stored Running) */
  | { type: 'task-frozen' | 'task-thawed'; taskId: string; epoch: number }
  /** every event of a worker run, as the host reported it */
  | { type: 'worker'; taskId: string; epoch: number; event: WorkerEvent }
