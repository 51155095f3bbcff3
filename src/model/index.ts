// skalds/model: the shared vocabulary and wire format of Skalds (docs/model.md): pure data and functions, no I/O.
export {
  ModeEnum,
  MODES,
  TaskLifecycleStatus,
  LIFECYCLE_STATUSES,
  SkaldModeEnum,
  SKALD_MODES,
  SystemControllerModeEnum,
  DispatcherStrategyEnum,
  HeartbeatCode,
  HEARTBEAT_RUNNING_MAX,
  statusOfHeartbeat,
} from './enums.ts'
export { SkaldsError, TaskValidationError, EventValidationError } from './errors.ts'
export { MAX_CHECKPOINT_BYTES, MAX_LAST_ERROR_CHARS, defaultTaskRuntime, type TaskRuntime, type TaskRuntimePatch, type JsonValue, type JsonObject } from './task-runtime.ts'
export {
  DEFAULT_DEADLINE_MS,
  PRIORITY_MIN,
  PRIORITY_MAX,
  PATCHABLE_FIELDS,
  parseTask,
  readStoredTask,
  parseTaskPatch,
  toWireTask,
  type Attachments,
  type Task,
  type TaskInput,
  type TaskPatch,
  type PatchableField,
  type ParseTaskOptions,
} from './task.ts'
export {
  parseTaskEvent,
  createTaskEvent,
  toWireTaskEvent,
  serializeTaskEvent,
  taskEventSchema,
  parseUpdateTaskWorkerEvent,
  serializeUpdateTaskWorkerEvent,
  type TaskEvent,
  type UpdateTaskWorkerEvent,
} from './events.ts'
export {
  SKALDS_HASH_KEY,
  SKALDS_MODE_HASH_KEY,
  skaldHeartbeatKey,
  skaldAllowTaskClassNameKey,
  skaldAllTaskKey,
  skaldKeysPattern,
  taskHeartbeatKey,
  taskHasErrorKey,
  taskExceptionKey,
  WireTimings,
} from './keys.ts'
export { Topic, TOPICS, TsTopic, SKALD_SUBSCRIPTIONS, taskNotifyProcessUpdateTopic } from './topics.ts'
export { serializeAllTasks, parseAllTasks, type SkaldAllTasks, type SkaldTaskRef } from './all-task.ts'
