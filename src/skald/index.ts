// skalds/skald: a Skald node (node, edge, single_process), the task manager it runs tasks with, and the state it
// writes in Skalds' Redis wire format.
export { Skald, exitCodeOf, type SkaldOptions, type SingleProcessResult } from './skald.ts'
export { runSkald, type RunSkaldOptions, type RunningSkald } from './run.ts'
export { TaskWorkerManager, type ManagerMode, type TaskWorkerManagerOptions, type AdmitResult, type WorkerClass } from './task-manager.ts'
export { TASK_PAUSE_TOPIC, TASK_RESUME_TOPIC, NODE_TOPICS, SINGLE_PROCESS_TOPICS, type NodeEvent, type NodeTopic, type EndedStatus, type IgnoredReason } from './node-events.ts'
export { TaskManagerError, ManagerCode, DEFAULT_RETRY, type RetryPolicy } from './task-outcome.ts'
export { silentTaskReporter, type TaskReporter, type ReportedEnding } from './task-reporter.ts'
export type { YamlReload } from './yaml-tasks.ts'
export {
  createSkaldStatePublisher,
  type SkaldStatePublisher,
  type SkaldStatePublisherOptions,
  type SkaldRegistration,
  type RunEnding,
  type TickReport,
} from '../state/publisher.ts'
export type { SkaldLoad, SkaldLoadJson } from '../state/load.ts'
export type { SkaldClassSchemas, PublishedClassSchema } from '../state/class-schemas.ts'
export { stateTaskReporter, runEndingOf } from './state-reporter.ts'
export { TERMINAL_HEARTBEATS, type SkaldStateBackend, type StateOp, type ApplyResult, type StoredValue, type StoredList } from '../state/backend.ts'
export { createMemorySkaldStateBackend, MemorySkaldStateBackend, type MemoryStateOptions } from '../state/memory.ts'
export { createRedisSkaldStateBackend, RedisSkaldStateBackend, type RedisSkaldStateOptions } from '../state/redis.ts'
export { createSkaldStateReader, type SkaldStateReader, type SkaldNodeState, type TaskState, type TaskProgress, type TaskBeat } from '../state/reader.ts'
export { SkaldStateArgumentError, SkaldStateWriteError } from '../state/errors.ts'
