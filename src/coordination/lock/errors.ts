// Errors of the distributed lock, one class per code.
import { SkaldsError } from '../../model/errors.ts'

/** `acquire` waited its whole wait timeout and the lock stayed held by someone else. */
export class LockTimeoutError extends SkaldsError {
  readonly key: string
  constructor(key: string, message: string, options?: ErrorOptions) {
    super('E_LOCK_TIMEOUT', message, options)
    this.key = key
  }
}

/**
 * A held lock is gone: it expired before it was extended, another owner took it, or the store could not confirm it
 * within its TTL. The lock's `signal` aborts with this error as its reason, and `release`/`extend` throw it.
 */
export class LockLostError extends SkaldsError {
  readonly key: string
  readonly fencingToken: number
  constructor(key: string, fencingToken: number, message: string, options?: ErrorOptions) {
    super('E_LOCK_LOST', message, options)
    this.key = key
    this.fencingToken = fencingToken
  }
}

/** `release`/`extend` on a lock object that does not hold the lock (never acquired, or already released). */
export class LockNotHeldError extends SkaldsError {
  readonly key: string
  constructor(key: string, message: string) {
    super('E_LOCK_NOT_HELD', message)
    this.key = key
  }
}
