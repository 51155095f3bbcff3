// Errors of the Skald's wire state (publisher, backends), one class per code.
import { SkaldsError } from '../model/errors.ts'

/** A skald id, task id, epoch or value handed to the state publisher is unusable; the message names the field. */
export class SkaldStateArgumentError extends SkaldsError {
  readonly field: string
  constructor(field: string, message: string) {
    super('E_SKALD_STATE_ARGUMENT', `${field}: ${message}`)
    this.field = field
  }
}

/** A state write did not reach the backend (Redis down, timeout); the next tick tries again with fresh values. */
export class SkaldStateWriteError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_SKALD_STATE_WRITE', message, options)
  }
}
