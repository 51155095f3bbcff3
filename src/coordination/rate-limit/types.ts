// The rate limiter's vocabulary, shared by the limiter, its stores, the store-failure policy and the errors; a
// module of its own so that none of them imports another for a type.

export const ON_STORE_ERROR = ['fallback-local', 'deny', 'allow'] as const
/** What a check answers when its store fails; see RateLimiterOptions.onStoreError. */
export type OnStoreError = (typeof ON_STORE_ERROR)[number]

export const RATE_LIMIT_ALGORITHMS = ['fixed-window', 'sliding-log', 'sliding-window', 'token-bucket'] as const

/**
 * - `fixed-window`: at most `limit` per window, windows aligned on multiples of `window` (server time).
 * - `sliding-log`: exact: at most `limit` in any span of `window` (one entry per unit; memory grows with `limit`).
 * - `sliding-window`: the previous window's count weighted by its overlap plus the current count; never more than
 *   `limit` in any aligned window, smooth across boundaries, constant memory.
 * - `token-bucket`: `limit` tokens of capacity, refilled evenly at `limit` per `window`; allows bursts up to `limit`.
 */
export type RateLimitAlgorithm = (typeof RATE_LIMIT_ALGORITHMS)[number]

export interface RateLimitPolicy {
  algorithm: RateLimitAlgorithm
  /** Units per window (token bucket: capacity). Whole number >= 1. */
  limit: number
  /** Window length in ms (token bucket: time to refill a whole bucket). Whole number >= 1. */
  windowMs: number
}

/** The verdict of one check. Times are durations from now (not epoch), so client and server clocks never mix. */
export interface RateLimitResult {
  allowed: boolean
  limit: number
  /** Units still available after this check (0 when denied at the limit). */
  remaining: number
  /** Ms until the limit fully frees up: end of the current window (fixed, sliding-window), until the oldest counted
   * unit leaves the window (sliding-log), until the bucket is full (token-bucket). */
  resetMs: number
  /** 0 when allowed; else ms to wait before the same check can succeed. */
  retryAfterMs: number
  /** Set when the store failed and `onStoreError` decided: `fallback-local`, `allow` or `deny`. */
  degraded?: OnStoreError
}

/** Where counters live. Implementations: RedisRateLimitStore, MemoryRateLimitStore. */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis'
  /** Counts `cost` units against `key` under `policy` if they fit, atomically. Inputs are already validated. */
  consume(key: string, policy: RateLimitPolicy, cost: number, nonce: string): Promise<RateLimitResult>
  /** Forgets the state of `key` (every algorithm's). */
  reset(key: string): Promise<void>
  close(): Promise<void>
}
