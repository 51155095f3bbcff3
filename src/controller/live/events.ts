// The payloads of the controller's live streams. The first five are the Python controller's (wire §6.8): same
// `type` names, same keys (`lifecycleStatus`, not API.md's `status`), epoch-ms `timestamp`; the dashboard and Python
// users parse them as they are. task_status, task_progress and task_log are ours.
import type { TaskLifecycleStatus } from '../../model/enums.ts'

/** The two event streams: `/api/events/skalds` and `/api/events/tasks`. */
export type LiveStream = 'skalds' | 'tasks'

/** A Skald came online or went offline (Python: also `offline` with `taskCount: 0` when it disappears). */
export interface SkaldStatusEvent {
  type: 'skald_status'
  skaldId: string
  data: { status: 'online' | 'offline'; taskCount: number }
  /** epoch ms */
  timestamp: number
}

/** The Skald's heartbeat value changed (it changes on every node write, about every 3 s). */
export interface SkaldHeartbeatEvent {
  type: 'skald_heartbeat'
  skaldId: string
  /** `tasks`: the ids of the tasks it says it runs (`all-task`) */
  data: { heartbeat: number; status: 'online' | 'offline'; tasks: string[] }
  timestamp: number
}

/** The events of the skalds stream. */
export type SkaldLiveEvent = SkaldStatusEvent | SkaldHeartbeatEvent

/** A watched task's heartbeat value changed (0 when the key is missing, as Python reads it). */
export interface TaskHeartbeatEvent {
  type: 'task_heartbeat'
  taskId: string
  data: { heartbeat: number; lifecycleStatus: TaskLifecycleStatus }
  timestamp: number
}

/** `task:{id}:has-error` changed to a non-empty value. */
export interface TaskErrorEvent {
  type: 'task_error'
  taskId: string
  data: { error: string; lifecycleStatus: TaskLifecycleStatus }
  timestamp: number
}

/** `task:{id}:exception` changed to a non-empty value. */
export interface TaskExceptionEvent {
  type: 'task_exception'
  taskId: string
  data: { exception: string; lifecycleStatus: TaskLifecycleStatus }
  timestamp: number
}

/** Ours: the stored status changed (published by the composition on store-level changes). */
export interface TaskStatusEvent {
  type: 'task_status'
  taskId: string
  data: { lifecycleStatus: TaskLifecycleStatus; executor: string | null; previousStatus: TaskLifecycleStatus | null }
  timestamp: number
}

/** Ours: the run reported progress (0..100). */
export interface TaskProgressEvent {
  type: 'task_progress'
  taskId: string
  data: { value: number; message: string | null }
  timestamp: number
}

/** Ours: log lines the run wrote since the last event (only the new ones). */
export interface TaskLogEvent {
  type: 'task_log'
  taskId: string
  data: { lines: string[] }
  timestamp: number
}

/** The events of the tasks stream. */
export type TaskLiveEvent = TaskHeartbeatEvent | TaskErrorEvent | TaskExceptionEvent | TaskStatusEvent | TaskProgressEvent | TaskLogEvent

/** Any live event. */
export type LiveEvent = SkaldLiveEvent | TaskLiveEvent

/**
 * Which events of its stream a client receives; every given field must match. `skaldId` on the skalds stream is
 * the Skald; on the tasks stream it is the task's executor. `taskId` applies to the tasks stream only.
 */
export interface LiveFilter {
  skaldId?: string
  taskId?: string
}
