// Errors of the refresh scheduler.
import { SkaldsError } from '../../model/errors.ts'

/** A refresh run exceeded its job's `timeout`; its loads were aborted and nothing it loaded was written. */
export class RefreshTimeoutError extends SkaldsError {
  constructor(message: string) {
    super('E_REFRESH_TIMEOUT', message)
  }
}

/** One or more keys of a run failed to load or to be written; the others were written. */
export class RefreshFailedError extends SkaldsError {
  readonly failures: Array<{ key: string; error: unknown }>
  constructor(message: string, failures: Array<{ key: string; error: unknown }>) {
    super('E_REFRESH_FAILED', message, { cause: failures[0]?.error })
    this.failures = failures
  }
}
