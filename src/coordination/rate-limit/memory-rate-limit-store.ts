// Rate-limit counters in this process's memory: the embedded default and the fallback while Redis is down.
// The arithmetic mirrors the Lua scripts in src/coordination/rate-limit/lua/ratelimit-*.lua line for line, so both stores give
// the same verdicts for the same times (the contract suite checks it).
import type { RateLimitPolicy, RateLimitResult, RateLimitStore } from './types.ts'

export interface MemoryRateLimitStoreOptions {
  /** Clock in epoch ms (whole numbers), injectable for tests. Default `Date.now`. */
  now?: () => number
  /** Sweep expired counters every this many checks. Default `1000`. */
  sweepEvery?: number
}

/** Tolerance for float rounding in the weighted estimate and the refilled tokens (same in the Lua scripts). */
const EPSILON = 1e-9

type Verdict = RateLimitResult

interface FixedState { kind: 'fixed'; w: number; c: number; expiresAt: number }
interface LogState { kind: 'log'; times: number[]; expiresAt: number }
interface CounterState { kind: 'counter'; w: number; c: number; p: number; expiresAt: number }
interface BucketState { kind: 'bucket'; t: number; ts: number; expiresAt: number }
type State = FixedState | LogState | CounterState | BucketState

export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory' as const
  #now: () => number
  #states = new Map<string, State>()
  #sweepEvery: number
  #checks = 0

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#sweepEvery = options.sweepEvery ?? 1000
  }

  /** Live counters (for tests and metrics). */
  get size(): number {
    return this.#states.size
  }

  #get<K extends State['kind']>(key: string, kind: K, now: number): Extract<State, { kind: K }> | undefined {
    const state = this.#states.get(key)
    if (!state) return undefined
    if (state.expiresAt <= now || state.kind !== kind) {
      this.#states.delete(key)
      return undefined
    }
    return state as Extract<State, { kind: K }>
  }

  consume(key: string, policy: RateLimitPolicy, cost: number): Promise<RateLimitResult> {
    const now = this.#now()
    if (++this.#checks % this.#sweepEvery === 0) this.#sweep(now)
    switch (policy.algorithm) {
      case 'fixed-window':
        return Promise.resolve(this.#fixed(key, policy, cost, now))
      case 'sliding-log':
        return Promise.resolve(this.#log(key, policy, cost, now))
      case 'sliding-window':
        return Promise.resolve(this.#counter(key, policy, cost, now))
      case 'token-bucket':
        return Promise.resolve(this.#bucket(key, policy, cost, now))
    }
  }

  #fixed(key: string, { limit, windowMs: window }: RateLimitPolicy, cost: number, now: number): Verdict {
    const start = now - (now % window)
    const state = this.#get(key, 'fixed', now)
    let count = state && state.w === start ? state.c : 0
    const reset = start + window - now
    if (count + cost <= limit) {
      count += cost
      this.#states.set(key, { kind: 'fixed', w: start, c: count, expiresAt: now + reset })
      return { allowed: true, limit, remaining: limit - count, resetMs: reset, retryAfterMs: 0 }
    }
    return { allowed: false, limit, remaining: limit - count, resetMs: reset, retryAfterMs: reset }
  }

  #log(key: string, { limit, windowMs: window }: RateLimitPolicy, cost: number, now: number): Verdict {
    const state = this.#get(key, 'log', now)
    const times = (state?.times ?? []).filter((t) => t > now - window)
    const count = times.length
    if (count + cost <= limit) {
      for (let i = 0; i < cost; i++) times.push(now)
      this.#states.set(key, { kind: 'log', times, expiresAt: now + window })
      return { allowed: true, limit, remaining: limit - count - cost, resetMs: times[0]! + window - now, retryAfterMs: 0 }
    }
    if (state) state.times = times
    return { allowed: false, limit, remaining: limit - count, resetMs: times[0]! + window - now, retryAfterMs: times[count + cost - limit - 1]! + window - now }
  }

  #counter(key: string, { limit, windowMs: window }: RateLimitPolicy, cost: number, now: number): Verdict {
    const start = now - (now % window)
    const state = this.#get(key, 'counter', now)
    let cur = 0
    let prev = 0
    if (state?.w === start) {
      cur = state.c
      prev = state.p
    } else if (state?.w === start - window) {
      prev = state.c
    }
    const elapsed = now - start
    const estimate = (prev * (window - elapsed)) / window + cur
    const reset = window - elapsed
    if (estimate + cost <= limit + EPSILON) {
      cur += cost
      this.#states.set(key, { kind: 'counter', w: start, c: cur, p: prev, expiresAt: now + reset + window })
      return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - estimate - cost + EPSILON)), resetMs: reset, retryAfterMs: 0 }
    }
    let retry: number
    if (cur + cost <= limit) {
      retry = Math.ceil(window - ((limit - cur - cost) * window) / prev) - elapsed
    } else {
      const into = cur > 0 ? Math.max(0, Math.ceil(window - ((limit - cost) * window) / cur)) : 0
      retry = reset + into
    }
    return { allowed: false, limit, remaining: Math.max(0, Math.floor(limit - estimate)), resetMs: reset, retryAfterMs: Math.max(1, retry) }
  }

  #bucket(key: string, { limit, windowMs: window }: RateLimitPolicy, cost: number, now: number): Verdict {
    const capacity = limit
    const rate = capacity / window
    const state = this.#get(key, 'bucket', now)
    let tokens = capacity
    if (state) tokens = now > state.ts ? Math.min(capacity, state.t + (now - state.ts) * rate) : state.t
    let allowed = false
    let retry = 0
    if (tokens >= cost - EPSILON) {
      tokens = Math.max(0, tokens - cost)
      allowed = true
    } else {
      retry = Math.ceil((cost - tokens) / rate)
    }
    const reset = Math.ceil((capacity - tokens) / rate)
    if (allowed) this.#states.set(key, { kind: 'bucket', t: tokens, ts: now, expiresAt: now + reset + 1 })
    return { allowed, limit, remaining: Math.floor(tokens), resetMs: reset, retryAfterMs: retry }
  }

  reset(key: string): Promise<void> {
    this.#states.delete(key)
    return Promise.resolve()
  }

  #sweep(now: number): void {
    for (const [key, state] of this.#states) if (state.expiresAt <= now) this.#states.delete(key)
  }

  close(): Promise<void> {
    this.#states.clear()
    return Promise.resolve()
  }
}

export function createMemoryRateLimitStore(options?: MemoryRateLimitStoreOptions): MemoryRateLimitStore {
  return new MemoryRateLimitStore(options)
}
