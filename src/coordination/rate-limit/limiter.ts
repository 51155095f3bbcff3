// The rate limiter: four algorithms behind one store seam (Redis: one Lua call per check, server time; memory:
// the same arithmetic in-process), a policy for when the store fails, and a function wrapper.
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Duration } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import { duration, durationThat, oneOf, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { RateLimitExceededError } from './errors.ts'
import { StoreErrorPolicy } from './fallback.ts'
import { ON_STORE_ERROR, type OnStoreError, RATE_LIMIT_ALGORITHMS, type RateLimitAlgorithm, type RateLimitPolicy, type RateLimitResult, type RateLimitStore } from './types.ts'

const ALGORITHM_TAG: Record<RateLimitAlgorithm, string> = { 'fixed-window': 'fw', 'sliding-log': 'sl', 'sliding-window': 'sw', 'token-bucket': 'tb' }

const invalid = (message: string) => new InvalidArgumentError(message)

// The limit's message names the bucket capacity for the token bucket, so it is checked with the algorithm.
const policyShape = {
  algorithm: oneOf(RATE_LIMIT_ALGORITHMS).optional(),
  limit: opaque<number>(),
  window: z
    .custom<Duration>((v) => v !== undefined, { error: "required (ms or a duration such as '1m')" })
    .pipe(durationThat((ms) => Number.isInteger(ms) && ms >= 1, 'must be at least 1 ms')),
}
function checkLimit(o: { algorithm?: RateLimitAlgorithm; limit: unknown }, ctx: z.RefinementCtx): void {
  if (typeof o.limit === 'number' && Number.isSafeInteger(o.limit) && o.limit >= 1) return
  const capacity = o.algorithm === 'token-bucket' ? ' (the bucket capacity)' : ''
  ctx.addIssue({ code: 'custom', message: `must be a whole number >= 1${capacity}, got ${JSON.stringify(o.limit)}`, path: ['limit'] })
}
const policySchema = optionsObject(policyShape).superRefine(checkLimit)
const limiterSchema = optionsObject({
  ...policyShape,
  store: z.custom<RateLimitStore>((v) => typeof (v as RateLimitStore | undefined)?.consume === 'function', { error: 'required (a RateLimitStore)' }),
  keyPrefix: z.string().optional(),
  onStoreError: oneOf(ON_STORE_ERROR).optional(),
  storeErrorRetryAfter: duration().optional(),
  logger: opaque<Logger>().optional(),
}).superRefine(checkLimit)

/** Validates a policy; every error names the field as `${field} name: reason`. */
export function resolvePolicy(input: { algorithm?: RateLimitAlgorithm; limit: number; window: Duration }, field = 'rate limit'): RateLimitPolicy {
  const o = parseOptions(policySchema, input, invalid, field, 'options', ' ')
  return { algorithm: o.algorithm ?? 'sliding-window', limit: o.limit, windowMs: o.window }
}

export interface ResolvedRateLimiterOptions {
  store: RateLimitStore
  policy: RateLimitPolicy
  keyPrefix: string
  onStoreError: OnStoreError
  storeErrorRetryAfterMs: number
  logger: Logger | undefined
}

/** Validates RateLimiter options and fills the defaults; bad input throws InvalidArgumentError (`rate limit field: reason`). */
export function resolveRateLimiterOptions(input: RateLimiterOptions): ResolvedRateLimiterOptions {
  const o = parseOptions(limiterSchema, input, invalid, 'rate limit', 'options', ' ')
  return {
    store: o.store,
    policy: { algorithm: o.algorithm ?? 'sliding-window', limit: o.limit, windowMs: o.window },
    keyPrefix: o.keyPrefix ?? 'rl:',
    onStoreError: o.onStoreError ?? 'fallback-local',
    storeErrorRetryAfterMs: o.storeErrorRetryAfter ?? 1000,
    logger: o.logger,
  }
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
    const o = resolveRateLimiterOptions(options)
    this.store = o.store
    this.policy = o.policy
    this.#prefix = o.keyPrefix
    this.#guard = new StoreErrorPolicy({
      mode: o.onStoreError,
      retryAfterMs: o.storeErrorRetryAfterMs,
      logger: o.logger ?? createLogger('skalds:rate-limit'),
      storeKind: o.store.kind,
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
