// ctx.stage: one named step of a multi-stage task, retried with exponential backoff; an abort never retries.
import { StageFailedError, WorkerArgumentError } from './errors.ts'

export interface StageBackoff {
  /** wait before the first retry, ms; default 200 */
  initialMs?: number
  /** each further wait is the previous times this; default 2 */
  factor?: number
  /** no wait is longer than this, ms; default 30 000 */
  maxMs?: number
}

export interface StageOptions {
  /** further attempts after the first fails; default 0 */
  retries?: number
  /** waits between attempts: exponential settings, or a function of the attempt that just failed (1-based) → ms */
  backoff?: StageBackoff | ((failedAttempt: number) => number)
}

export interface StageEvent {
  name: string
  /** 1-based */
  attempt: number
  status: 'started' | 'retrying' | 'done' | 'failed'
  /** the failed attempt's error message (retrying, failed) */
  error?: string
}

export interface StageDeps {
  signal: AbortSignal
  sleep(ms: number): Promise<void>
  report(event: StageEvent): void
}

/** The wait after `failedAttempt` (1-based) under the given backoff. */
export function backoffDelay(backoff: StageOptions['backoff'], failedAttempt: number): number {
  if (typeof backoff === 'function') {
    const ms = backoff(failedAttempt)
    if (!Number.isFinite(ms) || ms < 0) throw new WorkerArgumentError(`stage backoff: must return a non-negative number of ms, got ${ms}`)
    return ms
  }
  const initialMs = backoff?.initialMs ?? 200
  const factor = backoff?.factor ?? 2
  const maxMs = backoff?.maxMs ?? 30_000
  return Math.min(maxMs, initialMs * factor ** (failedAttempt - 1))
}

export async function runStage<T>(deps: StageDeps, name: string, fn: (attempt: number) => T | Promise<T>, options: StageOptions = {}): Promise<T> {
  if (typeof name !== 'string' || name === '') throw new WorkerArgumentError('stage name: must be a non-empty string')
  if (typeof fn !== 'function') throw new WorkerArgumentError(`stage ${JSON.stringify(name)}: fn must be a function`)
  const retries = options.retries ?? 0
  if (!Number.isInteger(retries) || retries < 0) throw new WorkerArgumentError(`stage ${JSON.stringify(name)}: retries must be a non-negative integer, got ${retries}`)
  for (let attempt = 1; ; attempt++) {
    deps.signal.throwIfAborted()
    deps.report({ name, attempt, status: 'started' })
    try {
      const value = await fn(attempt)
      deps.report({ name, attempt, status: 'done' })
      return value
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      // An abort ends the stage at once: the error is the abort's, not a reason to try again.
      if (deps.signal.aborted) throw error
      if (attempt > retries) {
        deps.report({ name, attempt, status: 'failed', error: message })
        throw new StageFailedError(name, attempt, { cause: error })
      }
      deps.report({ name, attempt, status: 'retrying', error: message })
      await deps.sleep(backoffDelay(options.backoff, attempt))
    }
  }
}
