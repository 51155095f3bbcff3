// The events a node-mode manager consumes (wire §2.2, plus the TS-only pause topic) and the events it emits for
// observability and tests.
import type { StandardSchemaV1 } from '../bus/standard-schema.ts'
import { EventValidationError } from '../model/errors.ts'
import { parseTaskEvent, type TaskEvent } from '../model/events.ts'
import { Topic } from '../model/topics.ts'
import type { WorkerEvent } from '../worker/host.ts'

/**
 * Pause one running task (cooperative: abort reason `paused`, checkpoint kept, status Paused). A TS extension:
 * payload and key as `task.cancel` (a TaskEvent keyed by the task id); Python nodes do not subscribe, so they
 * ignore it.
 */
export const TASK_PAUSE_TOPIC = 'task.pause'

/**
 * Thaw one frozen task in place (freeze-mode pause): the node that holds it SIGCONTs the child and stores it as
 * Running again under the same epoch. A TS extension like `task.pause`. A cooperatively paused task is resumed by
 * claiming it again and publishing `task.assign` instead; a node ignores this event for tasks it does not hold frozen.
 */
export const TASK_RESUME_TOPIC = 'task.resume'

/** The topics a node-mode manager subscribes to, each with the node's own group (broadcast). */
export const NODE_TOPICS = [Topic.TaskAssign, Topic.TaskCancel, Topic.TaskUpdateAttachment, TASK_PAUSE_TOPIC, TASK_RESUME_TOPIC] as const
export type NodeTopic = (typeof NODE_TOPICS)[number]

/**
 * A single_process manager takes no `task.assign`: its one task comes from the YAML file. (An edge Skald does take
 * it, for the resume of a paused YAML task: a dispatcher never sends it anything else, as it registers as `edge`.)
 */
export const SINGLE_PROCESS_TOPICS = [Topic.TaskCancel, Topic.TaskUpdateAttachment, TASK_PAUSE_TOPIC, TASK_RESUME_TOPIC] as const

/** TaskEvent (both spellings) as a Standard Schema, so the bus dead-letters a bad payload instead of the handler failing. */
export const taskEventSchema: StandardSchemaV1<unknown, TaskEvent> = {
  '~standard': {
    version: 1,
    vendor: 'skalds',
    validate: (value) => {
      try {
        return { value: parseTaskEvent(value) }
      } catch (error) {
        if (error instanceof EventValidationError) return { issues: [{ message: error.message }] }
        throw error
      }
    },
  },
}

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
