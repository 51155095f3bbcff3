// A backend wrapper that misbehaves on demand — fails every call, or stalls — for tests of degradation paths
// (timeouts, circuit breaker, fallback to the database). Exported so applications can test their own fallbacks.
import type { BackendEntry, BackendListener, CacheBackend } from '../backend.ts'
import { RedisUnavailableError } from '../../redis/errors.ts'

type Mode = { kind: 'healthy' } | { kind: 'throw'; error: () => Error } | { kind: 'stall'; ms: number }

/**
 * Wraps a backend. `alwaysThrow()` makes every call reject (an outage by default), `alwaysStall(ms)` delays every
 * call by `ms` before running it (no argument: until `heal()`), `heal()` restores normal behaviour and releases
 * stalled calls. `calls` counts calls that reached this wrapper, so a test can tell that a breaker kept them away.
 */
export class ChaosBackend implements CacheBackend {
  readonly inner: CacheBackend
  #mode: Mode = { kind: 'healthy' }
  #calls = 0
  #stalled = new Set<() => void>()

  constructor(inner: CacheBackend) {
    this.inner = inner
  }

  get kind(): CacheBackend['kind'] {
    return this.inner.kind
  }

  /** Calls that reached this wrapper (whatever the mode). */
  get calls(): number {
    return this.#calls
  }

  /** Every call rejects with `error` (default: a RedisUnavailableError, which a breaker counts as an outage). */
  alwaysThrow(error?: Error | (() => Error)): this {
    const make = typeof error === 'function' ? error : error ? () => error : () => new RedisUnavailableError('chaos: backend is down')
    this.#mode = { kind: 'throw', error: make }
    return this
  }

  /** Every call waits `ms` milliseconds before running (default: until `heal()`). */
  alwaysStall(ms = Number.POSITIVE_INFINITY): this {
    if (Number.isNaN(ms) || ms < 0) throw new RangeError(`ms: must be >= 0, got ${ms}`)
    this.#mode = { kind: 'stall', ms }
    return this
  }

  /** Back to normal; calls stalled so far run now. */
  heal(): this {
    this.#mode = { kind: 'healthy' }
    const stalled = [...this.#stalled]
    this.#stalled.clear()
    for (const release of stalled) release()
    return this
  }

  get(key: string): Promise<string | undefined> {
    return this.#run(() => this.inner.get(key))
  }
  getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return this.#run(() => this.inner.getMany(keys))
  }
  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.#run(() => this.inner.set(key, value, ttlMs))
  }
  setMany(entries: readonly BackendEntry[]): Promise<void> {
    return this.#run(() => this.inner.setMany(entries))
  }
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#run(() => this.inner.setIfAbsent(key, value, ttlMs))
  }
  delete(keys: readonly string[]): Promise<number> {
    return this.#run(() => this.inner.delete(keys))
  }
  deleteIfEquals(key: string, expected: string): Promise<boolean> {
    return this.#run(() => this.inner.deleteIfEquals(key, expected))
  }
  exists(key: string): Promise<boolean> {
    return this.#run(() => this.inner.exists(key))
  }
  ttl(key: string): Promise<number | null | undefined> {
    return this.#run(() => this.inner.ttl(key))
  }
  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#run(() => this.inner.expire(key, ttlMs))
  }
  increment(key: string, by: number, ttlMs?: number): Promise<number> {
    return this.#run(() => this.inner.increment(key, by, ttlMs))
  }
  deleteMatching(pattern: string): Promise<number> {
    return this.#run(() => this.inner.deleteMatching(pattern))
  }
  countMatching(pattern: string): Promise<number> {
    return this.#run(() => this.inner.countMatching(pattern))
  }
  addToTags(tagKeys: readonly string[], key: string, ttlMs?: number): Promise<void> {
    return this.#run(() => this.inner.addToTags(tagKeys, key, ttlMs))
  }
  invalidateTags(tagKeys: readonly string[]): Promise<number> {
    return this.#run(() => this.inner.invalidateTags(tagKeys))
  }
  publish(channel: string, message: string): Promise<void> {
    return this.#run(() => this.inner.publish(channel, message))
  }
  subscribe(channel: string, listener: BackendListener): Promise<() => Promise<void>> {
    return this.#run(() => this.inner.subscribe(channel, listener))
  }
  ping(): Promise<number> {
    return this.#run(() => this.inner.ping())
  }
  info(): Promise<{ usedMemoryBytes?: number; keys?: number }> {
    return this.#run(() => this.inner.info())
  }
  /** Closes the wrapped backend; always passes through (chaos never blocks a shutdown). */
  close(): Promise<void> {
    this.heal()
    return this.inner.close()
  }

  async #run<T>(call: () => Promise<T>): Promise<T> {
    this.#calls++
    const mode = this.#mode
    if (mode.kind === 'throw') throw mode.error()
    if (mode.kind === 'stall') await this.#stall(mode.ms)
    return call()
  }

  #stall(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const release = (): void => {
        clearTimeout(timer)
        this.#stalled.delete(release)
        resolve()
      }
      this.#stalled.add(release)
      if (Number.isFinite(ms)) timer = setTimeout(release, ms)
    })
  }
}
