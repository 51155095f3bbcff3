// Errors of the worker runtime, one class per stable `code` (the base class is model's SkaldsError).
import { SkaldsError } from '../model/errors.ts'
import type { AbortReason } from './abort-reason.ts'

/** A `defineWorker` field is missing or of the wrong kind; the message names the field. */
export class WorkerDefinitionError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_DEFINITION', message, options)
  }
}

/** The worker module could not be imported, or its export is not a worker definition. */
export class WorkerLoadError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_LOAD', message, options)
  }
}

/** The attachments a task was started with fail the worker's schema; no hook ran. */
export class WorkerAttachmentsError extends SkaldsError {
  readonly reason: string
  constructor(className: string, reason: string, options?: ErrorOptions) {
    super('E_WORKER_ATTACHMENTS', `${className}: attachments rejected by the schema: ${reason}`, options)
    this.reason = reason
  }
}

/** The reason `ctx.signal` carries: the task was asked to stop (cancel, pause, deadline, shutdown, superseded). */
export class TaskAbortedError extends SkaldsError {
  readonly reason: AbortReason
  constructor(reason: AbortReason, options?: ErrorOptions) {
    super('E_WORKER_ABORTED', `task aborted: ${reason}`, options)
    this.reason = reason
  }
}

/** A checkpoint is not JSON, or larger than the host allows. */
export class CheckpointError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_CHECKPOINT', message, options)
  }
}

/** A `ctx.stage` ran out of attempts; `cause` is the last attempt's error. */
export class StageFailedError extends SkaldsError {
  readonly stage: string
  readonly attempts: number
  constructor(stage: string, attempts: number, options?: ErrorOptions) {
    const last = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super('E_WORKER_STAGE', `stage ${JSON.stringify(stage)} failed after ${attempts} attempt(s)${last}`, options)
    this.stage = stage
    this.attempts = attempts
  }
}

/** The worker's process or thread ended without reporting an outcome (crash, exit, signal). */
export class WorkerExitedError extends SkaldsError {
  readonly exitCode: number | null
  readonly signal: string | null
  constructor(message: string, exitCode: number | null, signal: string | null, options?: ErrorOptions) {
    super('E_WORKER_EXITED', message, options)
    this.exitCode = exitCode
    this.signal = signal
  }
}

/** A parent↔child message failed its schema (the message is dropped, never acted on). */
export class WorkerProtocolError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_PROTOCOL', message, options)
  }
}

/** Freeze was asked of a task that cannot be frozen: not process-isolated, or its class did not opt in. */
export class FreezeUnsupportedError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_FREEZE_UNSUPPORTED', message, options)
  }
}

/** `ctx.cache()` was called but the host was given no cache factory, or the factory failed. */
export class CacheUnavailableError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_NO_CACHE', message, options)
  }
}

/** The host is closed: it starts no more tasks. */
export class WorkerHostClosedError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_HOST_CLOSED', message, options)
  }
}

/** An argument to a context or host method is invalid: the message names it and says why. */
export class WorkerArgumentError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_WORKER_ARGUMENT', message, options)
  }
}
