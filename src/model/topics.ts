// Kafka topic names of the Skalds wire format (wire §2.2). Keys are always the task id, never null.

export const Topic = {
  /** TaskEvent, key = task id; consumed by node-mode Skalds only */
  TaskAssign: 'task.assign',
  /** TaskEvent, key = task id; consumed by node-mode Skalds only */
  TaskCancel: 'task.cancel',
  /** TaskEvent, key = task id; consumed by node, edge and single_process Skalds */
  TaskUpdateAttachment: 'task.update.attachment',
  /** UpdateTaskWorkerEvent, key = task id (the workers' routing filter) */
  TaskWorkerUpdate: 'taskworker.update',
  /** any text; Python nodes only log it */
  Testing: 'testing',
} as const
export type Topic = (typeof Topic)[keyof typeof Topic]

/**
 * Topics of the TypeScript Skalds only, with Skalds' TaskEvent payload keyed by the task id. Python nodes do not
 * subscribe to them, so they ignore them; a Python controller never produces them.
 */
export const TsTopic = {
  /** pause one running task: cooperative (abort `paused`, checkpoint kept) or freeze (SIGSTOP), per its class */
  TaskPause: 'task.pause',
  /** thaw one frozen task in place (the node that holds it); a cooperatively paused task is resumed by a new assignment */
  TaskResume: 'task.resume',
  /** a draining node handed tasks back (Created, no executor): a dispatcher may place them at once */
  TaskRequeued: 'task.requeued',
  /**
   * a node's run ended (any outcome) and its load in Redis says so: a dispatcher may use the freed slot at once.
   * Keyed by the node's id (not the task's); the payload's taskIds are the runs that ended.
   */
  TaskEnded: 'task.ended',
} as const
export type TsTopic = (typeof TsTopic)[keyof typeof TsTopic]
export const TOPICS: readonly Topic[] = Object.values(Topic)

/** The topics a Skald subscribes to in each mode (wire §2.4). */
export const SKALD_SUBSCRIPTIONS = {
  node: [Topic.TaskAssign, Topic.TaskCancel, Topic.TaskUpdateAttachment, Topic.Testing],
  edge: [Topic.TaskUpdateAttachment, Topic.Testing],
  single_process: [Topic.TaskUpdateAttachment, Topic.Testing],
} as const satisfies Record<string, readonly Topic[]>

/** Per-task topic of a Python helper that nothing uses; kept only so the name is known. Do not produce to it. */
export function taskNotifyProcessUpdateTopic(taskId: string): string {
  return `task.${taskId}.update`
}
