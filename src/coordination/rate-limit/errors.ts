// Errors of the rate limiter.
import { SkaldsError } from '../../model/errors.ts'
import type { RateLimitResult } from './types.ts'

/** Thrown by `rateLimited(...)` wrappers when a call is over its limit; carries the limiter's verdict. */
export class RateLimitExceededError extends SkaldsError {
  readonly result: RateLimitResult
  readonly retryAfterMs: number
  constructor(message: string, result: RateLimitResult) {
    super('E_RATE_LIMITED', message)
    this.result = result
    this.retryAfterMs = result.retryAfterMs
  }
}
