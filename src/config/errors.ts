// Errors of configuration input: each names the field and the reason.
import { SkaldsError } from '../model/errors.ts'

export class InvalidDurationError extends SkaldsError {
  constructor(message: string) {
    super('E_INVALID_DURATION', message)
  }
}
