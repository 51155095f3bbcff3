// The CacheService facade: one namespace of a cache, over the shared runtime (backend, L1, buses, stats).
// Hot paths: an L1 hit returns Promise.resolve(value) from a plain function (getSync peeks without a promise);
// an L2 hit is one backend call, one counter increment and one deserialization. Nothing logs on a hit.
import type { Duration } from '../../config/duration.ts'
import { InvalidArgumentError, isOutageError } from '../../redis/errors.ts'
import { globToRegExp } from '../../redis/glob.ts'
import { hasHeader, sealEnvelope } from './envelope.ts'
import type { L1Space } from './l1.ts'
import { checkKey, checkTags, isList, NamespaceCore } from './core.ts'
import { Loader, type Factory } from './loader.ts'
import {
  checkNamespace,
  resolveDefaults,
  type CounterOptions,
  type GetOrSetOptions,
  type NamespaceOptions,
  type ResolvedDefaults,
  type SetOptions,
  type WriteThroughOptions,
} from './options.ts'
import type { CacheRuntime, Flight } from './runtime.ts'
import { healthOf, statisticsOf, type CacheHealth, type CacheStatistics } from './monitoring.ts'
import type { NamespaceCounters, NamespaceStats, SlowOperation } from './stats.ts'

export type { Factory, FactoryContext } from './loader.ts'
export type { BreakerState, CacheHealth, CacheStatistics } from './monitoring.ts'

export interface SetManyEntry extends SetOptions {
  key: string
  value: unknown
}

export class CacheService {
  /** The full namespace path, e.g. `cache` or `cache:users`. */
  readonly name: string
  readonly #core: NamespaceCore
  readonly #rt: CacheRuntime
  readonly #space: L1Space | undefined
  readonly #counters: NamespaceCounters
  readonly #loader: Loader
  readonly #children = new Map<string, CacheService>()

  /** @internal use `createCache()` and `namespace()` */
  constructor(runtime: CacheRuntime, namespace: string, defaults: ResolvedDefaults) {
    this.name = namespace
    this.#core = new NamespaceCore(runtime, namespace, defaults)
    this.#rt = runtime
    this.#space = this.#core.space
    this.#counters = this.#core.counters
    this.#loader = new Loader(this.#core)
  }

  /** The cached value, `undefined` on a miss (or when the store is down), `null` for a cached null. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const space = this.#space
    if (space !== undefined) {
      checkKey(key)
      const entry = space.get(key)
      if (entry !== undefined) {
        this.#counters.hits++
        return Promise.resolve(entry.value as T)
      }
    }
    return this.#getFromStore(key, this.#core.full(key)) as Promise<T | undefined>
  }

  /** The L1 copy of a key, synchronously; `undefined` when L1 is off or does not hold it (L2 is not asked). */
  getSync<T = unknown>(key: string): T | undefined {
    checkKey(key)
    const entry = this.#space?.get(key)
    if (entry === undefined) return undefined
    this.#counters.hits++
    return entry.value as T
  }

  /** Stores a value. Resolves `true` when it reached the store, `false` when the store was down (skipped). */
  async set(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const full = this.#core.full(key)
    const payload = this.#rt.serialize(value, full)
    const tags = checkTags(options?.tags)
    return this.#core.store(key, full, value, payload, this.#core.ttlOf(options?.ttl, options?.jitter), this.#core.graceOf(options?.grace), tags, true, 'set')
  }

  /** Deletes a key; true when it existed. */
  async delete(key: string): Promise<boolean> {
    return (await this.#deleteFull([this.#core.full(key)], 'delete')) > 0
  }

  /** Deletes keys in one round trip; returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    if (!isList(keys)) throw new InvalidArgumentError('keys: must be an array of non-empty strings')
    if (keys.length === 0) return 0
    return this.#deleteFull(keys.map((key) => this.#core.full(key)), 'deleteMany')
  }

  async exists(key: string): Promise<boolean> {
    const full = this.#core.full(key)
    if (this.#space?.get(key) !== undefined) return true
    return this.#core.call('exists', full, false, () => this.#core.backend.exists(full))
  }

  /** Remaining time to live in ms (of the stored entry, grace included); `null` = no expiry; `undefined` = missing. */
  async ttl(key: string): Promise<number | null | undefined> {
    const full = this.#core.full(key)
    return this.#core.call<number | null | undefined>('ttl', full, undefined, () => this.#core.backend.ttl(full))
  }

  /** Sets a key's time to live; false when the key does not exist (or the store is down). */
  async expire(key: string, ttl: Duration): Promise<boolean> {
    const full = this.#core.full(key)
    const ms = this.#rt.durationMs(ttl, 'ttl', true)
    const done = await this.#core.call('expire', full, false, () => this.#core.backend.expire(full, ms))
    this.#core.evictLocal([full])
    return done
  }

  /**
   * Adds `by` (default 1) to an integer counter, creating it at 0 with `ttl` (default: the namespace ttl) on first
   * increment. Resolves the new value, or `undefined` when the store is down (non-strict mode). A key holding a
   * non-integer throws RedisCommandError even in non-strict mode: that is a bug, not an outage.
   */
  async increment(key: string, by = 1, options?: CounterOptions): Promise<number | undefined> {
    const full = this.#core.full(key)
    if (!Number.isSafeInteger(by)) throw new InvalidArgumentError(`by: must be a safe integer, got ${String(by)}`)
    const ttlMs = options?.ttl === undefined ? this.#core.defaults.ttlMs : this.#rt.durationMs(options.ttl, 'ttl', true)
    const started = performance.now()
    try {
      const value = await this.#core.backend.increment(full, by, ttlMs)
      this.#core.succeeded('increment', full, started)
      this.#core.evictLocal([full])
      return value
    } catch (error) {
      if (!isOutageError(error)) throw error
      this.#rt.fail('increment', full, error, this.#counters)
      return undefined
    }
  }

  decrement(key: string, by = 1, options?: CounterOptions): Promise<number | undefined> {
    return this.increment(key, -by, options)
  }

  /** Values of many keys (one round trip, grouped by slot on a cluster), in order; `undefined` for misses. */
  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (!isList(keys)) throw new InvalidArgumentError('keys: must be an array of non-empty strings')
    const fulls = keys.map((key) => this.#core.full(key))
    const out = new Array<T | undefined>(fulls.length).fill(undefined)
    const missing: number[] = []
    const space = this.#space
    for (let i = 0; i < fulls.length; i++) {
      const entry = space?.get(keys[i]!)
      if (entry === undefined) missing.push(i)
      else {
        out[i] = entry.value as T
        this.#counters.hits++
      }
    }
    if (missing.length === 0) return out
    const l1 = this.#core.l1
    const wanted = missing.map((i) => fulls[i]!)
    if (l1 !== undefined) for (const full of wanted) l1.beginRead(full)
    const raws = await this.#core.call<Array<string | undefined> | undefined>('getMany', wanted[0]!, undefined, () => this.#core.backend.getMany(wanted))
    const clean = l1 === undefined ? undefined : wanted.map((full) => l1.endRead(full))
    const now = Date.now()
    missing.forEach((index, j) => {
      const raw = raws?.[j]
      const entry = raw === undefined ? undefined : this.#core.decode(fulls[index]!, raw)
      if (entry === undefined || entry.staleAt <= now) {
        this.#counters.misses++
        return
      }
      this.#counters.hits++
      out[index] = entry.value as T
      if (clean?.[j] === true) space!.fill(keys[index]!, entry.value, entry.staleAt - now, this.#core.tagKeys(entry.tags))
    })
    return out
  }

  /** Stores many entries in one round trip. Every value is validated first: one bad value writes nothing. */
  async setMany(entries: readonly SetManyEntry[]): Promise<boolean> {
    if (!isList(entries)) throw new InvalidArgumentError('entries: must be an array of { key, value }')
    const prepared = entries.map((entry, i) => {
      if (entry === null || typeof entry !== 'object') throw new InvalidArgumentError(`entries[${i}]: must be { key, value, ttl?, tags? }`)
      const full = this.#core.full(entry.key)
      const tags = checkTags(entry.tags)
      const ttlMs = this.#core.ttlOf(entry.ttl, entry.jitter)
      const graceMs = this.#core.graceOf(entry.grace)
      const payload = this.#rt.serialize(entry.value, full)
      const stored = sealEnvelope(payload, graceMs > 0 ? Date.now() + ttlMs : undefined, tags)
      return { key: entry.key, full, value: entry.value, ttlMs, stored, physicalMs: ttlMs + graceMs, tagKeys: tags && this.#core.tagKeys(tags) }
    })
    if (prepared.length === 0) return true
    const ok = await this.#core.call('setMany', prepared[0]!.full, false, async () => {
      await this.#core.backend.setMany(prepared.map((p) => ({ key: p.full, value: p.stored, ttlMs: p.physicalMs })))
      await Promise.all(prepared.filter((p) => p.tagKeys !== undefined).map((p) => this.#core.backend.addToTags(p.tagKeys!, p.full, p.physicalMs)))
      return true
    })
    const space = this.#space
    if (space !== undefined) for (const p of prepared) space.set(p.key, p.value, p.ttlMs, p.tagKeys)
    this.#rt.bus?.publishKeys(prepared.map((p) => p.full))
    return ok
  }

  /**
   * The cached value, or the factory's (stored for next time). N concurrent misses in this process run the factory
   * once; with `lock.distributed` also across processes. A null/undefined result is cached as null for `nullTtl`.
   * Inside the grace period a stale value is returned at once while one background refresh runs.
   * When the store is down the factory runs and its value is returned (not stored).
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions): Promise<T> {
    const full = this.#core.full(key)
    if (typeof factory !== 'function') throw new InvalidArgumentError('factory: must be a function returning the value (or a promise of it)')
    const space = this.#space
    if (space !== undefined) {
      const entry = space.get(key)
      if (entry !== undefined) {
        this.#counters.hits++
        return Promise.resolve(entry.value as T)
      }
    }
    const flights = this.#rt.flights
    const joined = flights.get(full)
    if (joined !== undefined) {
      joined.joiners++
      return joined.promise as Promise<T>
    }
    // Registered before the load starts: the load removes it (and counts every caller) when it settles.
    const flight: Flight = { promise: undefined as unknown as Promise<unknown>, joiners: 0 }
    flights.set(full, flight)
    flight.promise = this.#loader.load(full, key, factory as Factory<unknown>, options, flight)
    return flight.promise as Promise<T>
  }

  /** Runs `write` (e.g. the database update), caches its result under `key`, then runs the invalidations. */
  async writeThrough<T>(key: string, write: () => Promise<T> | T, options?: WriteThroughOptions): Promise<T> {
    this.#core.full(key)
    if (typeof write !== 'function') throw new InvalidArgumentError('write: must be a function performing the write and returning the value to cache')
    const value = await write()
    if (value === undefined) await this.delete(key)
    else await this.set(key, value, options)
    for (const pattern of options?.invalidatePatterns ?? []) await this.invalidatePattern(pattern)
    if (options?.invalidateTags !== undefined && options.invalidateTags.length > 0) await this.invalidateTags(options.invalidateTags)
    return value
  }

  /**
   * Deletes every key of this namespace matching a Redis glob (SCAN + UNLINK on every master, never KEYS) and evicts
   * L1 copies everywhere. The pattern is a glob: pass user input through `escapeGlob` first. Returns the count.
   */
  async invalidatePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern.length === 0) throw new InvalidArgumentError('pattern: must be a non-empty glob string (escape user input with escapeGlob)')
    const full = this.#core.base + pattern
    const count = await this.#core.call('invalidatePattern', full, 0, () => this.#core.backend.deleteMatching(full))
    this.#core.l1?.deleteMatching(globToRegExp(full))
    this.#rt.bus?.publishPattern(full)
    return count
  }

  /** Deletes every key set with one of the tags (in this namespace); returns how many keys were deleted. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    const checked = checkTags(tags)
    if (checked === undefined) return 0
    const tagKeys = this.#core.tagKeys(checked)!
    const count = await this.#core.call('invalidateTags', tagKeys[0]!, 0, () => this.#core.backend.invalidateTags(tagKeys))
    this.#core.l1?.deleteTags(tagKeys)
    this.#rt.bus?.publishTags(tagKeys)
    return count
  }

  /** Deletes every key of this namespace (and of its children). */
  clear(): Promise<number> {
    return this.invalidatePattern('*')
  }

  /** A child namespace `<this>:<name>` sharing backend, L1, stats and breaker; `options` override inherited defaults. */
  namespace(name: string, options?: NamespaceOptions): CacheService {
    checkNamespace(name, 'namespace')
    if (options === undefined) {
      let child = this.#children.get(name)
      if (child === undefined) this.#children.set(name, (child = new CacheService(this.#rt, `${this.name}:${name}`, this.#core.defaults)))
      return child
    }
    return new CacheService(this.#rt, `${this.name}:${name}`, resolveDefaults(options, this.#core.defaults))
  }

  /** Counters of every namespace of this cache. */
  stats(): Record<string, NamespaceStats> {
    return this.#rt.stats.snapshot()
  }

  /** The last operations over the slow threshold, oldest first. */
  slowOperations(): SlowOperation[] {
    return this.#rt.slow.entries()
  }

  /** Pings the store within the timeout: healthy when it answers and the breaker is closed. Never throws. */
  health(): Promise<CacheHealth> {
    return healthOf(this.#core.backend, this.#rt.timeoutMs)
  }

  /** Key counts per namespace, store memory, and the counters (seed 001's cache statistics). Never throws. */
  statistics(): Promise<CacheStatistics> {
    return statisticsOf(this.#rt, [this.name, ...this.#rt.stats.namespaces()])
  }

  /** Closes the cache (every namespace of it): buses, and the backend/connection createCache opened. */
  close(): Promise<void> {
    return this.#rt.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // ---- used by the loader (same module family; not part of the public API) ----

  // ---- internals ----

  async #getFromStore(key: string, full: string): Promise<unknown> {
    const l1 = this.#core.l1
    l1?.beginRead(full)
    const started = performance.now()
    let raw: string | undefined
    try {
      raw = await this.#core.backend.get(full)
    } catch (error) {
      l1?.endRead(full)
      this.#counters.misses++
      this.#rt.fail('get', full, error, this.#counters)
      return undefined
    }
    const clean = l1 !== undefined && l1.endRead(full)
    this.#core.succeeded('get', full, started)
    if (raw !== undefined && !hasHeader(raw)) {
      let value: unknown
      try {
        value = this.#rt.serializer.deserialize(raw)
      } catch (error) {
        this.#core.unreadable(full, error)
        this.#counters.misses++
        return undefined
      }
      this.#counters.hits++
      if (clean) this.#space!.fill(key, value, l1.maxTtlMs, undefined)
      return value
    }
    const entry = raw === undefined ? undefined : this.#core.decode(full, raw)
    const now = Date.now()
    if (entry === undefined || entry.staleAt <= now) {
      this.#counters.misses++
      return undefined
    }
    this.#counters.hits++
    if (clean) this.#space!.fill(key, entry.value, entry.staleAt - now, this.#core.tagKeys(entry.tags))
    return entry.value
  }

  async #deleteFull(fulls: string[], op: string): Promise<number> {
    const count = await this.#core.call(op, fulls[0]!, 0, () => this.#core.backend.delete(fulls))
    this.#core.evictLocal(fulls)
    return count
  }

}
