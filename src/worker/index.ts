// skalds/worker: the TaskWorker API (definition, context, hooks), what a worker module imports. The hosts that run
// a worker task are skalds/worker/hosts (./hosts.ts): every worker child process loads this entry, and not loading
// the hosts' modules there saves each child about 0.8 MB of RSS.
export { defineWorker, isWorkerDefinition, Isolation, ISOLATIONS } from './definition.ts'
export type { WorkerDefinition, WorkerDefinitionInput, WorkerHooks, Hook, AnyWorkerDefinition, TaskEnding } from './definition.ts'
// pino's Logger, named apart from skalds/config's Logger (the subset every component takes) so both can be imported.
export type { WorkerContext, Logger as WorkerLogger } from './context.ts'
export type { StageOptions, StageBackoff, StageEvent } from './stage.ts'
export { AbortReason, ABORT_REASONS } from './abort-reason.ts'
export type { JsonValue } from './json.ts'
export { DEFAULT_CHECKPOINT_MAX_BYTES } from './json.ts'
export type { StandardSchemaV1, InferOutput } from './standard-schema.ts'
export { attachmentsJsonSchema, type AttachmentsJsonSchema } from './attachments-json-schema.ts'
export type {
  WorkerHost,
  WorkerHostOptions,
  WorkerRef,
  StartRequest,
  TaskRun,
  TaskRunState,
  TaskOutcome,
  WorkerEvent,
  UpdateResult,
  LogSource,
  ForcedStop,
  OutcomeBase,
} from './host.ts'
export type { ErrorInfo, HookName, ModuleRef, ParentMessage, ChildMessage } from './protocol.ts'
export { parseParentMessage, parseChildMessage, HOOK_NAMES } from './protocol.ts'
export { loadWorkerDefinition } from './module-loader.ts'
export * from './errors.ts'
