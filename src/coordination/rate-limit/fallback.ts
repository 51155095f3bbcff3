// What a rate-limit check answers when its store fails: a documented choice, never an accidental open door.
import type { Logger } from '../../config/logger.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { ON_STORE_ERROR, type OnStoreError, type RateLimitPolicy, type RateLimitResult, type RateLimitStore } from './types.ts'
import { MemoryRateLimitStore } from './memory-rate-limit-store.ts'

export interface StoreErrorPolicyOptions {
  mode: OnStoreError
  retryAfterMs: number
  logger: Logger
  storeKind: RateLimitStore['kind']
}

/** Runs checks on the store; on a store failure answers per `mode` and logs once per outage. */
export class StoreErrorPolicy {
  #options: StoreErrorPolicyOptions
  #local: MemoryRateLimitStore | undefined
  #failing = false

  constructor(options: StoreErrorPolicyOptions) {
    if (!ON_STORE_ERROR.includes(options.mode)) {
      throw new InvalidArgumentError(`rate limiter onStoreError: must be one of ${ON_STORE_ERROR.join(', ')}, got ${JSON.stringify(options.mode)}`)
    }
    this.#options = options
  }

  /** True while the last check found the store failing. */
  get failing(): boolean {
    return this.#failing
  }

  async run(policy: RateLimitPolicy, key: string, cost: number, nonce: string, store: RateLimitStore): Promise<RateLimitResult> {
    try {
      const result = await store.consume(key, policy, cost, nonce)
      if (this.#failing) {
        this.#failing = false
        this.#options.logger.info(`rate limiter: ${store.kind} store answers again; back to shared limits`)
      }
      return result
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error
      const { mode } = this.#options
      if (!this.#failing) {
        this.#failing = true
        const what = mode === 'fallback-local' ? 'limiting in-process (per process) until it recovers' : mode === 'deny' ? 'denying every check until it recovers' : 'allowing every check until it recovers (onStoreError: allow)'
        this.#options.logger.warn({ err: error }, `rate limiter: ${store.kind} store failed (${(error as Error).message}); ${what}`)
      }
      if (mode === 'allow') return { allowed: true, limit: policy.limit, remaining: policy.limit - cost, resetMs: policy.windowMs, retryAfterMs: 0, degraded: mode }
      if (mode === 'deny') {
        const wait = this.#options.retryAfterMs
        return { allowed: false, limit: policy.limit, remaining: 0, resetMs: wait, retryAfterMs: wait, degraded: mode }
      }
      this.#local ??= new MemoryRateLimitStore()
      const local = await this.#local.consume(key, policy, cost)
      local.degraded = mode
      return local
    }
  }
}
