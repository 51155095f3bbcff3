// The resilience facade around any CacheBackend: a per-call timeout (a call never waits past it, even when the
// server stalls) and a circuit breaker (after repeated outages, calls fail fast instead of piling up on a dead
// server, and one probe call at a time finds out when it is back).
//
//   closed ──N consecutive outage failures──▶ open ──openFor elapsed──▶ half-open ──probe ok──▶ closed
//                                              ▲                            │
//                                              └────────probe fails─────────┘
//
// Only outage errors (isOutageError: unreachable, timeout) count; a command error (WRONGTYPE, bad input) proves
// the server answered, so it resets the count.
import type { Duration } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import type { BackendEntry, BackendListener, CacheBackend } from '../backend.ts'
import { DeadlineWheel } from '../../redis/deadline.ts'
import { z } from 'zod'
import { boolean, duration, fn, integer, optionsObject, parseOptions } from '../../config/options.ts'
import { CircuitOpenError, InvalidArgumentError, isOutageError, RedisTimeoutError } from '../../redis/errors.ts'

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerStateChange {
  from: BreakerState
  to: BreakerState
  /** The failure that opened the breaker (or failed the probe). */
  error?: Error
  /** Consecutive outage failures counted when the change happened. */
  failures: number
}

export interface BreakerOptions {
  /** Consecutive outage failures (timeouts, unreachable) that open the breaker. Default `5`. */
  failureThreshold?: number
  /** How long the breaker stays open (calls fail fast) before one probe call is let through. Default `'5s'`. */
  openFor?: Duration
}

export interface ResilientBackendOptions {
  /** Longest a call may take, in ms or a Duration string; it then fails with RedisTimeoutError. Default `1000` ms. */
  timeout?: Duration
  /**
   * Longest a bulk call (deleteMatching, countMatching, invalidateTags: many SCAN round trips) may take, in ms or
   * a Duration string. Default `'60s'`.
   */
  bulkTimeout?: Duration
  /**
   * The wrapped backend bounds each single-command call itself within `timeout` (RedisBackend over a RedisConnection
   * whose `commandTimeout` is at most `timeout`): those calls then skip this wrapper's own timer, which costs more
   * than a cached GET. Bulk calls keep `bulkTimeout`. Default `false`.
   */
  innerBoundsCalls?: boolean
  /** Circuit breaker settings, or `false` for timeouts only. Default `{ failureThreshold: 5, openFor: '5s' }`. */
  breaker?: BreakerOptions | false
  /** Called on every state change (also emitted to listeners added with `onStateChange()`). Default none. */
  onStateChange?: (change: BreakerStateChange) => void
  /** Name used in logs and error messages. Default the wrapped backend's kind (`redis` / `memory`). */
  name?: string
  /** Where transitions are logged, once each (open: warn; half-open, closed: info). Default the library logger. */
  logger?: Logger
}

export interface ResolvedResilientOptions {
  timeoutMs: number
  bulkTimeoutMs: number
  innerBoundsCalls: boolean
  /** false: timeouts only */
  breaker: boolean
  failureThreshold: number
  openForMs: number
}

const positive = duration({ positive: true })

/** The breaker's options; createCache validates its `breaker` option with it before connecting. */
export const breakerSchema = z.union([z.literal(false), optionsObject({ failureThreshold: integer(1).optional(), openFor: positive.optional() })])

const resilientSchema = optionsObject({
  timeout: positive.optional(),
  bulkTimeout: positive.optional(),
  innerBoundsCalls: boolean().optional(),
  breaker: breakerSchema.optional(),
  onStateChange: fn<(change: BreakerStateChange) => void>().optional(),
  name: z.string().optional(),
})

/** Validates ResilientBackend options and fills the defaults; bad input throws InvalidArgumentError naming the field. */
export function resolveResilientOptions(options: ResilientBackendOptions = {}): ResolvedResilientOptions {
  const o = parseOptions(resilientSchema, options, (message) => new InvalidArgumentError(message))
  const breaker = o.breaker === false ? {} : (o.breaker ?? {})
  return {
    timeoutMs: o.timeout ?? 1000,
    bulkTimeoutMs: o.bulkTimeout ?? 60_000,
    innerBoundsCalls: o.innerBoundsCalls ?? false,
    breaker: o.breaker !== false,
    failureThreshold: breaker.failureThreshold ?? 5,
    openForMs: breaker.openFor ?? 5000,
  }
}

export class ResilientBackend implements CacheBackend {
  readonly inner: CacheBackend
  readonly timeoutMs: number
  readonly bulkTimeoutMs: number
  readonly failureThreshold: number
  readonly openForMs: number
  readonly #breakerEnabled: boolean
  readonly #innerBoundsCalls: boolean
  readonly #name: string
  readonly #logger: Logger
  readonly #listeners = new Set<(change: BreakerStateChange) => void>()
  #state: BreakerState = 'closed'
  #failures = 0
  #openUntil = 0
  #lastError: Error | undefined
  #probeInFlight = false
  /** Bumped on every transition: outcomes of calls admitted before it (still in flight) no longer move the state. */
  #generation = 0

  constructor(inner: CacheBackend, options: ResilientBackendOptions = {}) {
    this.inner = inner
    const resolved = resolveResilientOptions(options)
    this.timeoutMs = resolved.timeoutMs
    this.bulkTimeoutMs = resolved.bulkTimeoutMs
    this.#breakerEnabled = resolved.breaker
    this.#innerBoundsCalls = resolved.innerBoundsCalls
    this.failureThreshold = resolved.failureThreshold
    this.openForMs = resolved.openForMs
    this.#name = options.name ?? inner.kind
    this.#logger = options.logger ?? createLogger('skalds:cache')
    if (options.onStateChange) this.#listeners.add(options.onStateChange)
  }

  get kind(): CacheBackend['kind'] {
    return this.inner.kind
  }

  /** `closed` (normal), `open` (failing fast), or `half-open` (a probe may go through). */
  get state(): BreakerState {
    // An open breaker whose time is up reports half-open: the next call is the probe.
    if (this.#state === 'open' && Date.now() >= this.#openUntil) return 'half-open'
    return this.#state
  }

  /** Consecutive outage failures so far. */
  get failures(): number {
    return this.#failures
  }

  /** Adds a state-change listener; returns a function removing it. */
  onStateChange(listener: (change: BreakerStateChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  get(key: string): Promise<string | undefined> {
    return this.#call('get', () => this.inner.get(key))
  }
  getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return this.#call('getMany', () => this.inner.getMany(keys), this.timeoutMs)
  }
  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.#call('set', () => this.inner.set(key, value, ttlMs))
  }
  setMany(entries: readonly BackendEntry[]): Promise<void> {
    return this.#call('setMany', () => this.inner.setMany(entries), this.timeoutMs)
  }
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#call('setIfAbsent', () => this.inner.setIfAbsent(key, value, ttlMs))
  }
  delete(keys: readonly string[]): Promise<number> {
    return this.#call('delete', () => this.inner.delete(keys))
  }
  deleteIfEquals(key: string, expected: string): Promise<boolean> {
    return this.#call('deleteIfEquals', () => this.inner.deleteIfEquals(key, expected), this.timeoutMs)
  }
  exists(key: string): Promise<boolean> {
    return this.#call('exists', () => this.inner.exists(key))
  }
  ttl(key: string): Promise<number | null | undefined> {
    return this.#call('ttl', () => this.inner.ttl(key))
  }
  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#call('expire', () => this.inner.expire(key, ttlMs))
  }
  increment(key: string, by: number, ttlMs?: number): Promise<number> {
    return this.#call('increment', () => this.inner.increment(key, by, ttlMs), this.timeoutMs)
  }
  deleteMatching(pattern: string): Promise<number> {
    // A SCAN over a big keyspace legitimately outlasts one command timeout: bulk calls get `bulkTimeout`.
    return this.#call('deleteMatching', () => this.inner.deleteMatching(pattern), this.bulkTimeoutMs)
  }
  countMatching(pattern: string): Promise<number> {
    return this.#call('countMatching', () => this.inner.countMatching(pattern), this.bulkTimeoutMs)
  }
  addToTags(tagKeys: readonly string[], key: string, ttlMs?: number): Promise<void> {
    return this.#call('addToTags', () => this.inner.addToTags(tagKeys, key, ttlMs), this.timeoutMs)
  }
  invalidateTags(tagKeys: readonly string[]): Promise<number> {
    return this.#call('invalidateTags', () => this.inner.invalidateTags(tagKeys), this.bulkTimeoutMs)
  }
  publish(channel: string, message: string): Promise<void> {
    return this.#call('publish', () => this.inner.publish(channel, message))
  }
  async subscribe(channel: string, listener: BackendListener): Promise<() => Promise<void>> {
    const unsubscribe = await this.#call('subscribe', () => this.inner.subscribe(channel, listener), this.timeoutMs)
    // Unsubscribing is cleanup: bounded by the timeout, never refused by an open breaker.
    return () => this.#withTimeout('unsubscribe', unsubscribe())
  }
  ping(): Promise<number> {
    return this.#call('ping', () => this.inner.ping())
  }
  info(): Promise<{ usedMemoryBytes?: number; keys?: number }> {
    return this.#call('info', () => this.inner.info(), this.timeoutMs)
  }
  /** Closes the wrapped backend (bounded by the timeout; never refused by the breaker). */
  close(): Promise<void> {
    return this.#withTimeout('close', this.inner.close())
  }

  // ---- internals ----

  /**
   * Runs one call through the breaker and the timeout. Calls that may take several round trips (many keys, scripts
   * that may be reloaded, several tag sets) always get the timer; with `innerBoundsCalls` single-command calls
   * (get, set, exists, ttl, expire, setIfAbsent, delete, publish, ping) rely on the inner backend's own bound. A plain function, not async: on the hot path (breaker
   * closed, inner backend bounding its own calls) it adds one `then` and nothing else.
   */
  #call<T>(operation: string, run: () => Promise<T>, timeoutMs?: number): Promise<T> {
    let probe: boolean
    try {
      probe = this.#admit(operation)
    } catch (error) {
      return Promise.reject(asError(error))
    }
    const generation = this.#generation
    let pending: Promise<T>
    try {
      pending = run()
    } catch (error) {
      pending = Promise.reject(asError(error))
    }
    if (timeoutMs !== undefined || !this.#innerBoundsCalls) pending = this.#withTimeout(operation, pending, timeoutMs ?? this.timeoutMs)
    return pending.then(
      (result) => {
        if (probe) this.#probeInFlight = false
        if (generation === this.#generation && (this.#failures !== 0 || this.#state !== 'closed')) this.#succeeded()
        return result
      },
      (error: unknown) => {
        if (probe) this.#probeInFlight = false
        if (generation === this.#generation) this.#failed(error)
        throw error
      },
    )
  }

  /** Lets a call through or throws CircuitOpenError; returns true when the call is the half-open probe. */
  #admit(operation: string): boolean {
    if (!this.#breakerEnabled || this.#state === 'closed') return false
    if (this.#state === 'open') {
      const remaining = this.#openUntil - Date.now()
      if (remaining > 0) throw this.#openError(operation, `retrying in ${remaining} ms`)
      this.#transition('half-open')
    }
    if (this.#probeInFlight) throw this.#openError(operation, 'a probe call is in flight')
    this.#probeInFlight = true
    return true
  }

  #succeeded(): void {
    this.#failures = 0
    if (this.#state !== 'closed') this.#transition('closed')
  }

  #failed(error: unknown): void {
    if (!isOutageError(error)) {
      // The server answered (a command error, bad input): it is up.
      this.#succeeded()
      return
    }
    this.#failures++
    this.#lastError = error as Error
    if (!this.#breakerEnabled) return
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.failureThreshold)) {
      this.#openUntil = Date.now() + this.openForMs
      this.#transition('open', error as Error)
    }
  }

  #transition(to: BreakerState, error?: Error): void {
    const from = this.#state
    if (from === to) return
    this.#state = to
    this.#generation++
    const change: BreakerStateChange = { from, to, failures: this.#failures, ...(error ? { error } : {}) }
    if (to === 'open') {
      this.#logger.warn(
        { err: error, failures: this.#failures, openForMs: this.openForMs },
        `${this.#name} circuit breaker open after ${this.#failures} consecutive failure(s) (${error?.message}); failing fast for ${this.openForMs} ms`,
      )
    } else if (to === 'half-open') {
      this.#logger.info(`${this.#name} circuit breaker half-open: letting one probe call through`)
    } else {
      this.#logger.info(`${this.#name} circuit breaker closed: the backend answers again`)
    }
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (listenerError) {
        this.#logger.error({ err: listenerError }, `${this.#name} circuit breaker: a state-change listener threw`)
      }
    }
  }

  #openError(operation: string, detail: string): CircuitOpenError {
    const last = this.#lastError ? ` (last failure: ${this.#lastError.message})` : ''
    return new CircuitOpenError(`${this.#name} ${operation}: circuit breaker open after ${this.#failures} consecutive failure(s)${last}; ${detail}`, {
      cause: this.#lastError,
    })
  }

  /** Settles within `timeoutMs` whatever the wrapped call does; a late outcome is dropped (and never unhandled). */
  #withTimeout<T>(operation: string, pending: Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    return callDeadlines.race(pending, timeoutMs, `${this.#name} ${operation}`)
  }
}

const callDeadlines = new DeadlineWheel((context, timeoutMs) => new RedisTimeoutError(`${context}: no reply within ${timeoutMs} ms (timeout)`))

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
