// The rate limiter: four algorithms behind one store seam (Redis: one Lua call per check, server time; memory:
// the same arithmetic in-process), a policy for when the store fails, and a function wrapper.
import { randomBytes } from 'node:crypto'
import { type Duration, toMs } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { RateLimitExceededError } from './errors.ts'
import { StoreErrorPolicy } from './fallback.ts'
import { type OnStoreError, RATE_LIMIT_ALGORITHMS, type RateLimitAlgorithm, type RateLimitPolicy, type RateLimitResult, type RateLimitStore } from './types.ts'

const ALGORITHM_TAG: Record<RateLimitAlgorithm, string> = { 'fixed-window': 'fw', 'sliding-log': 'sl', 'sliding-window': 'sw', 'token-bucket': 'tb' }

/** Validates a policy; every error names the field and the reason. */
export function resolvePolicy(input: { algorithm?: RateLimitAlgorithm; limit: number; window: Duration }, field = 'rate limit'): RateLimitPolicy {
  const algorithm = input.algorithm ?? 'sliding-window'
  if (!RATE_LIMIT_ALGORITHMS.includes(algorithm)) {
    throw new InvalidArgumentError(`${field} algorithm: must be one of ${RATE_LIMIT_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`)
  }
  const limit = input.limit
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(
      `${field} limit: must be a whole number >= 1${algorithm === 'token-bucket' ? ' (the bucket capacity)' : ''}, got ${JSON.stringify(limit)}`,
    )
  }
  if (input.window === undefined) throw new InvalidArgumentError(`${field} window: required (ms or a duration such as '1m')`)
  const windowMs = toMs(input.window, `${field} window`)
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new InvalidArgumentError(`${field} window: must be at least 1 ms, got ${windowMs}`)
  return { algorithm, limit, windowMs }
}

export interface RateLimiterOptions {
  /** Where counters live: `createRedisRateLimitStore(conn)` or `createMemoryRateLimitStore()`. */
  store: RateLimitStore
  /** Default `sliding-window`. */
  algorithm?: RateLimitAlgorithm
  /** Units per window (token bucket: capacity). Required, whole number >= 1. */
  limit: number
  /** Window length (ms or `'1m'`-style; token bucket: time to refill a whole bucket). Required, >= 1 ms. */
  window: Duration
  /** Prefix of counter keys, before the algorithm tag and the caller's key. Default `rl:`. */
  keyPrefix?: string
  /**
   * What a check returns when the store fails (Redis down or timing out). Default `fallback-local`: an in-process
   * limiter with the same policy (limits then hold per process, not across processes). `deny`: every check is
   * denied with `retryAfterMs = storeErrorRetryAfter`. `allow`: every check passes (an explicit open door).
   * Results carry `degraded`. Ignored by the memory store, which cannot fail.
   */
  onStoreError?: OnStoreError
  /** retryAfterMs reported by `deny` while the store is failing. Default `1s`. */
  storeErrorRetryAfter?: Duration
  /** Where store failures and recoveries are logged (once per outage). Default the library logger. */
  logger?: Logger
}

const PROCESS_NONCE = randomBytes(9).toString('base64url')
let nonceCounter = 0

export class RateLimiter {
  readonly policy: RateLimitPolicy
  readonly store: RateLimitStore
  #prefix: string
  #guard: StoreErrorPolicy

  constructor(options: RateLimiterOptions) {
    if (!options || typeof options.store?.consume !== 'function') throw new InvalidArgumentError('rate limiter store: required (a RateLimitStore)')
    this.store = options.store
    this.policy = resolvePolicy(options)
    this.#prefix = options.keyPrefix ?? 'rl:'
    this.#guard = new StoreErrorPolicy({
      mode: options.onStoreError ?? 'fallback-local',
      retryAfterMs: toMs(options.storeErrorRetryAfter ?? 1000, 'rate limiter storeErrorRetryAfter'),
      logger: options.logger ?? createLogger('skalds:rate-limit'),
      storeKind: options.store.kind,
    })
  }

  #key(key: string): string {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError(`rate limit key: must be a non-empty string, got ${JSON.stringify(key)}`)
    return `${this.#prefix}${ALGORITHM_TAG[this.policy.algorithm]}:${key}`
  }

  /** Counts `cost` units (default 1) against `key` when they fit; the verdict says allowed, remaining, reset, retry-after. */
  async check(key: string, options?: { cost?: number }): Promise<RateLimitResult> {
    const full = this.#key(key)
    const cost = options?.cost ?? 1
    if (!Number.isInteger(cost) || cost < 1 || cost > this.policy.limit) {
      throw new InvalidArgumentError(`rate limit cost: must be a whole number from 1 to the limit (${this.policy.limit}), got ${JSON.stringify(cost)}`)
    }
    // Only the sliding log needs a per-call nonce (distinct sorted-set members within one millisecond).
    const nonce = this.policy.algorithm === 'sliding-log' ? `${PROCESS_NONCE}.${(++nonceCounter).toString(36)}` : ''
    return this.#guard.run(this.policy, full, cost, nonce, this.store)
  }

  /** Forgets the counters of `key`. */
  async reset(key: string): Promise<void> {
    await this.store.reset(this.#key(key))
  }
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(options)
}

/**
 * Wraps a function so each call first passes `limiter` under the key `keyOf(...args)`; over the limit it throws
 * RateLimitExceededError (with `retryAfterMs`) without calling it.
 */
export function rateLimited<A extends unknown[], R>(
  limiter: RateLimiter,
  keyOf: (...args: A) => string,
  fn: (...args: A) => R | Promise<R>,
  options: { cost?: number } = {},
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const result = await limiter.check(keyOf(...args), options)
    if (!result.allowed) {
      throw new RateLimitExceededError(`rate limit exceeded (${result.limit} per ${limiter.policy.windowMs} ms); retry in ${Math.ceil(result.retryAfterMs / 1000)} s`, result)
    }
    return fn(...args)
  }
}
