// The CacheService facade: one namespace of a cache, over the shared runtime (backend, L1, buses, stats).
// Hot paths: an L1 hit returns Promise.resolve(value) from a plain function (getSync peeks without a promise);
// an L2 hit is one backend call, one counter increment and one deserialization. Nothing logs on a hit.
import type { Duration } from '../../config/duration.ts'
import type { CacheBackend } from '../backend.ts'
import { InvalidArgumentError, isOutageError } from '../errors.ts'
import { globToRegExp } from '../glob.ts'
import { hasHeader, openEnvelope, sealEnvelope } from './envelope.ts'
import type { L1Cache } from './l1.ts'
import { Loader, type Factory } from './loader.ts'
import {
  checkJitter,
  checkNamespace,
  resolveDefaults,
  type CounterOptions,
  type GetOrSetOptions,
  type NamespaceOptions,
  type ResolvedDefaults,
  type SetOptions,
  type WriteThroughOptions,
} from './options.ts'
import type { CacheRuntime, Loaded } from './runtime.ts'
import type { NamespaceCounters, NamespaceStats, SlowOperation } from './stats.ts'

export type { Factory, FactoryContext } from './loader.ts'

/** A stored entry as read from L2. */
export interface StoredEntry {
  value: unknown
  /** epoch ms when it turns stale; Infinity without a grace period */
  staleAt: number
  tags: string[] | undefined
}

/** `readEntry` result when the store failed (already counted and logged). */
export const STORE_FAILED: unique symbol = Symbol('store failed')

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface CacheHealth {
  status: 'healthy' | 'degraded'
  /** ping round trip in ms, when the store answered */
  latencyMs?: number
  breaker: BreakerState
  backend: 'redis' | 'memory'
  /** why it is degraded */
  error?: string
}

export interface CacheStatistics {
  /** live key counts per namespace (a parent's count includes its children's keys and internal tag/lock keys) */
  namespaces: Record<string, { keys?: number }>
  /** memory used by the store (Redis used_memory; the memory backend's estimate) */
  memory: { usedBytes?: number }
  stats: Record<string, NamespaceStats>
}

export interface SetManyEntry extends SetOptions {
  key: string
  value: unknown
}

export class CacheService {
  /** The full namespace path, e.g. `cache` or `cache:users`. */
  readonly name: string
  readonly #rt: CacheRuntime
  readonly #backend: CacheBackend
  readonly #l1: L1Cache | undefined
  /** `${globalPrefix}${namespace}:` */
  readonly #base: string
  readonly #defaults: ResolvedDefaults
  readonly #counters: NamespaceCounters
  readonly #loader: Loader
  readonly #children = new Map<string, CacheService>()

  /** @internal use `createCache()` and `namespace()` */
  constructor(runtime: CacheRuntime, namespace: string, defaults: ResolvedDefaults) {
    this.name = namespace
    this.#rt = runtime
    this.#backend = runtime.backend
    this.#l1 = runtime.l1
    this.#base = `${runtime.globalPrefix}${namespace}:`
    this.#defaults = defaults
    this.#counters = runtime.stats.counters(namespace)
    this.#loader = new Loader(this, runtime, this.#counters)
  }

  /** The cached value, `undefined` on a miss (or when the store is down), `null` for a cached null. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const full = this.#full(key)
    const l1 = this.#l1
    if (l1 !== undefined) {
      const entry = l1.get(full)
      if (entry !== undefined) {
        this.#counters.hits++
        return Promise.resolve(entry.value as T)
      }
    }
    return this.#getFromStore(full) as Promise<T | undefined>
  }

  /** The L1 copy of a key, synchronously; `undefined` when L1 is off or does not hold it (L2 is not asked). */
  getSync<T = unknown>(key: string): T | undefined {
    const entry = this.#l1?.get(this.#full(key))
    if (entry === undefined) return undefined
    this.#counters.hits++
    return entry.value as T
  }

  /** Stores a value. Resolves `true` when it reached the store, `false` when the store was down (skipped). */
  async set(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const full = this.#full(key)
    const payload = this.#rt.serialize(value, full)
    const tags = checkTags(options?.tags)
    return this.store(full, value, payload, this.ttlOf(options?.ttl, options?.jitter), this.graceOf(options?.grace), tags, true, 'set')
  }

  /** Deletes a key; true when it existed. */
  async delete(key: string): Promise<boolean> {
    return (await this.#deleteFull([this.#full(key)], 'delete')) > 0
  }

  /** Deletes keys in one round trip; returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    if (!isList(keys)) throw new InvalidArgumentError('keys: must be an array of non-empty strings')
    if (keys.length === 0) return 0
    return this.#deleteFull(keys.map((key) => this.#full(key)), 'deleteMany')
  }

  async exists(key: string): Promise<boolean> {
    const full = this.#full(key)
    if (this.#l1?.get(full) !== undefined) return true
    return this.#call('exists', full, false, () => this.#backend.exists(full))
  }

  /** Remaining time to live in ms (of the stored entry, grace included); `null` = no expiry; `undefined` = missing. */
  async ttl(key: string): Promise<number | null | undefined> {
    const full = this.#full(key)
    return this.#call<number | null | undefined>('ttl', full, undefined, () => this.#backend.ttl(full))
  }

  /** Sets a key's time to live; false when the key does not exist (or the store is down). */
  async expire(key: string, ttl: Duration): Promise<boolean> {
    const full = this.#full(key)
    const ms = this.#rt.durationMs(ttl, 'ttl', true)
    const done = await this.#call('expire', full, false, () => this.#backend.expire(full, ms))
    this.#evictLocal([full])
    return done
  }

  /**
   * Adds `by` (default 1) to an integer counter, creating it at 0 with `ttl` (default: the namespace ttl) on first
   * increment. Resolves the new value, or `undefined` when the store is down (non-strict mode). A key holding a
   * non-integer throws RedisCommandError even in non-strict mode: that is a bug, not an outage.
   */
  async increment(key: string, by = 1, options?: CounterOptions): Promise<number | undefined> {
    const full = this.#full(key)
    if (!Number.isSafeInteger(by)) throw new InvalidArgumentError(`by: must be a safe integer, got ${String(by)}`)
    const ttlMs = options?.ttl === undefined ? this.#defaults.ttlMs : this.#rt.durationMs(options.ttl, 'ttl', true)
    const started = performance.now()
    try {
      const value = await this.#backend.increment(full, by, ttlMs)
      this.#succeeded('increment', full, started)
      this.#evictLocal([full])
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
    const fulls = keys.map((key) => this.#full(key))
    const out = new Array<T | undefined>(fulls.length)
    const missing: number[] = []
    const l1 = this.#l1
    for (let i = 0; i < fulls.length; i++) {
      const entry = l1?.get(fulls[i]!)
      if (entry === undefined) missing.push(i)
      else {
        out[i] = entry.value as T
        this.#counters.hits++
      }
    }
    if (missing.length === 0) return out
    const epoch = l1?.epoch
    const wanted = missing.map((i) => fulls[i]!)
    const raws = await this.#call<Array<string | undefined> | undefined>('getMany', wanted[0]!, undefined, () => this.#backend.getMany(wanted))
    const now = Date.now()
    missing.forEach((index, j) => {
      const raw = raws?.[j]
      const entry = raw === undefined ? undefined : this.decode(fulls[index]!, raw)
      if (entry === undefined || entry.staleAt <= now) {
        this.#counters.misses++
        return
      }
      this.#counters.hits++
      out[index] = entry.value as T
      if (l1 !== undefined && l1.epoch === epoch) l1.set(fulls[index]!, entry.value, entry.staleAt - now, this.tagKeys(entry.tags))
    })
    return out
  }

  /** Stores many entries in one round trip. Every value is validated first: one bad value writes nothing. */
  async setMany(entries: readonly SetManyEntry[]): Promise<boolean> {
    if (!isList(entries)) throw new InvalidArgumentError('entries: must be an array of { key, value }')
    const prepared = entries.map((entry, i) => {
      if (entry === null || typeof entry !== 'object') throw new InvalidArgumentError(`entries[${i}]: must be { key, value, ttl?, tags? }`)
      const full = this.#full(entry.key)
      const tags = checkTags(entry.tags)
      const ttlMs = this.ttlOf(entry.ttl, entry.jitter)
      const graceMs = this.graceOf(entry.grace)
      const payload = this.#rt.serialize(entry.value, full)
      const stored = sealEnvelope(payload, graceMs > 0 ? Date.now() + ttlMs : undefined, tags)
      return { full, value: entry.value, ttlMs, stored, physicalMs: ttlMs + graceMs, tagKeys: tags && this.tagKeys(tags) }
    })
    if (prepared.length === 0) return true
    const ok = await this.#call('setMany', prepared[0]!.full, false, async () => {
      await this.#backend.setMany(prepared.map((p) => ({ key: p.full, value: p.stored, ttlMs: p.physicalMs })))
      await Promise.all(prepared.filter((p) => p.tagKeys !== undefined).map((p) => this.#backend.addToTags(p.tagKeys!, p.full, p.physicalMs)))
      return true
    })
    const l1 = this.#l1
    if (l1 !== undefined) {
      l1.epoch++
      for (const p of prepared) l1.set(p.full, p.value, p.ttlMs, p.tagKeys)
    }
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
    const full = this.#full(key)
    if (typeof factory !== 'function') throw new InvalidArgumentError('factory: must be a function returning the value (or a promise of it)')
    const l1 = this.#l1
    if (l1 !== undefined) {
      const entry = l1.get(full)
      if (entry !== undefined) {
        this.#counters.hits++
        return Promise.resolve(entry.value as T)
      }
    }
    const flights = this.#rt.flights
    let flight = flights.get(full)
    if (flight === undefined) {
      flight = this.#loader.load(full, key, factory as Factory<unknown>, options)
      flights.set(full, flight)
      const forget = (): void => {
        if (flights.get(full) === flight) flights.delete(full)
      }
      flight.then(forget, forget)
    }
    return flight.then(this.#settle) as Promise<T>
  }

  /** Runs `write` (e.g. the database update), caches its result under `key`, then runs the invalidations. */
  async writeThrough<T>(key: string, write: () => Promise<T> | T, options?: WriteThroughOptions): Promise<T> {
    this.#full(key)
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
    const full = this.#base + pattern
    const count = await this.#call('invalidatePattern', full, 0, () => this.#backend.deleteMatching(full))
    if (this.#l1 !== undefined) this.#l1.deleteMatching(globToRegExp(full))
    this.#rt.bus?.publishPattern(full)
    return count
  }

  /** Deletes every key set with one of the tags (in this namespace); returns how many keys were deleted. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    const checked = checkTags(tags)
    if (checked === undefined) return 0
    const tagKeys = this.tagKeys(checked)!
    const count = await this.#call('invalidateTags', tagKeys[0]!, 0, () => this.#backend.invalidateTags(tagKeys))
    this.#l1?.deleteTags(tagKeys)
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
      if (child === undefined) this.#children.set(name, (child = new CacheService(this.#rt, `${this.name}:${name}`, this.#defaults)))
      return child
    }
    return new CacheService(this.#rt, `${this.name}:${name}`, resolveDefaults(options, this.#defaults))
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
  async health(): Promise<CacheHealth> {
    const kind = this.#backend.kind
    try {
      const latencyMs = await withTimeout(this.#backend.ping(), this.#rt.timeoutMs, 'ping')
      const breaker = breakerState(this.#backend)
      return breaker === 'closed' ? { status: 'healthy', latencyMs, breaker, backend: kind } : { status: 'degraded', latencyMs, breaker, backend: kind, error: `circuit breaker is ${breaker}` }
    } catch (error) {
      return { status: 'degraded', breaker: breakerState(this.#backend), backend: kind, error: error instanceof Error ? error.message : String(error) }
    }
  }

  /** Key counts per namespace, store memory, and the counters (seed 001's cache statistics). Never throws. */
  async statistics(): Promise<CacheStatistics> {
    const names = [...new Set([this.name, ...this.#rt.stats.namespaces()])].sort()
    const namespaces: Record<string, { keys?: number }> = {}
    await Promise.all(
      names.map(async (ns) => {
        const pattern = `${this.#rt.globalPrefix}${ns}:*`
        const keys = await withTimeout(this.#backend.countMatching(pattern), this.#rt.timeoutMs * 10, 'countMatching').catch(() => undefined)
        namespaces[ns] = keys === undefined ? {} : { keys }
      }),
    )
    const info = await withTimeout(this.#backend.info(), this.#rt.timeoutMs, 'info').catch(() => undefined)
    return { namespaces, memory: info?.usedMemoryBytes === undefined ? {} : { usedBytes: info.usedMemoryBytes }, stats: this.stats() }
  }

  /** Closes the cache (every namespace of it): buses, and the backend/connection createCache opened. */
  close(): Promise<void> {
    return this.#rt.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // ---- used by the loader (same module family; not part of the public API) ----

  /** @internal Reads and decodes one entry; STORE_FAILED when the store failed. Fills L1 with fresh entries. */
  async readEntry(full: string, op: string): Promise<StoredEntry | undefined | typeof STORE_FAILED> {
    const l1 = this.#l1
    const epoch = l1 === undefined ? 0 : l1.epoch
    const started = performance.now()
    let raw: string | undefined
    try {
      raw = await this.#backend.get(full)
    } catch (error) {
      this.#rt.fail(op, full, error, this.#counters)
      return STORE_FAILED
    }
    this.#succeeded(op, full, started)
    if (raw === undefined) return undefined
    const entry = this.decode(full, raw)
    if (entry !== undefined && l1 !== undefined && l1.epoch === epoch) {
      const fresh = entry.staleAt - Date.now()
      if (fresh > 0) l1.set(full, entry.value, fresh, this.tagKeys(entry.tags))
    }
    return entry
  }

  /** @internal Deserializes a stored entry; an unreadable one counts as an error and reads as a miss. */
  decode(full: string, raw: string): StoredEntry | undefined {
    try {
      if (!hasHeader(raw)) return { value: this.#rt.serializer.deserialize(raw), staleAt: Infinity, tags: undefined }
      const envelope = openEnvelope(raw, full)
      return { value: this.#rt.serializer.deserialize(envelope.payload), staleAt: envelope.staleAt, tags: envelope.tags }
    } catch (error) {
      this.#unreadable(full, error)
      return undefined
    }
  }

  #unreadable(full: string, error: unknown): void {
    this.#counters.errors++
    this.#rt.logger.warn({ err: error, key: full }, 'cache entry could not be deserialized; read as a miss')
  }

  /**
   * @internal Writes an entry to L2 (unless `toStore` is false: the store just failed), then L1, then tells other
   * processes to evict their copies. Resolves false when the store write failed or was skipped.
   */
  async store(full: string, value: unknown, payload: string, ttlMs: number, graceMs: number, tags: string[] | undefined, toStore: boolean, op: string): Promise<boolean> {
    const tagKeys = tags === undefined ? undefined : this.tagKeys(tags)
    let ok = false
    if (toStore) {
      const staleAt = graceMs > 0 ? Date.now() + ttlMs : undefined
      const stored = tagKeys === undefined && staleAt === undefined ? payload : sealEnvelope(payload, staleAt, tags)
      const physicalMs = ttlMs + graceMs
      const started = performance.now()
      try {
        await this.#backend.set(full, stored, physicalMs)
        if (tagKeys !== undefined) await this.#backend.addToTags(tagKeys, full, physicalMs)
        this.#succeeded(op, full, started)
        ok = true
      } catch (error) {
        this.#rt.fail(op, full, error, this.#counters)
      }
    }
    const l1 = this.#l1
    if (l1 !== undefined) {
      l1.epoch++
      l1.set(full, value, ttlMs, tagKeys)
    }
    this.#rt.bus?.publishKeys([full])
    return ok
  }

  /** @internal The TTL of one write in ms: the call's or the namespace's, with jitter applied. */
  ttlOf(ttl: Duration | undefined, jitter: number | undefined): number {
    let ms = ttl === undefined ? this.#defaults.ttlMs : this.#rt.durationMs(ttl, 'ttl', true)
    const spread = jitter === undefined ? this.#defaults.jitter : checkJitter(jitter, 'jitter')
    if (spread > 0) ms = Math.max(1, Math.round(ms * (1 + ((Math.random() * 2 - 1) * spread) / 100)))
    return ms
  }

  /** @internal */
  graceOf(grace: Duration | undefined): number {
    return grace === undefined ? this.#defaults.graceMs : this.#rt.durationMs(grace, 'grace', false)
  }

  /** @internal */
  get defaults(): ResolvedDefaults {
    return this.#defaults
  }

  /** @internal `<prefix><ns>:__lock:<key>` */
  lockKey(key: string): string {
    return `${this.#base}__lock:${key}`
  }

  /** @internal `<prefix><ns>:__tag:<tag>` for each tag */
  tagKeys(tags: readonly string[] | undefined): string[] | undefined {
    if (tags === undefined || tags.length === 0) return undefined
    return tags.map((tag) => `${this.#base}__tag:${tag}`)
  }

  // ---- internals ----

  #settle = (loaded: Loaded): unknown => {
    if (loaded.source === 1) this.#counters.hits++
    else if (loaded.source === 2) this.#counters.staleHits++
    else this.#counters.misses++
    return loaded.value
  }

  #full(key: string): string {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError(`key: must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
    if (key.charCodeAt(0) === 95 && key.charCodeAt(1) === 95) throw new InvalidArgumentError(`key: ${JSON.stringify(key)} must not start with "__" (reserved for locks and tags)`)
    return this.#base + key
  }

  /** get()'s L2 path, kept to one async frame: the hot path of an L2 hit. */
  async #getFromStore(full: string): Promise<unknown> {
    const l1 = this.#l1
    const epoch = l1 === undefined ? 0 : l1.epoch
    const started = performance.now()
    let raw: string | undefined
    try {
      raw = await this.#backend.get(full)
    } catch (error) {
      this.#counters.misses++
      this.#rt.fail('get', full, error, this.#counters)
      return undefined
    }
    this.#succeeded('get', full, started)
    if (raw !== undefined && !hasHeader(raw)) {
      let value: unknown
      try {
        value = this.#rt.serializer.deserialize(raw)
      } catch (error) {
        this.#unreadable(full, error)
        this.#counters.misses++
        return undefined
      }
      this.#counters.hits++
      if (l1 !== undefined && l1.epoch === epoch) l1.set(full, value, l1.maxTtlMs, undefined)
      return value
    }
    const entry = raw === undefined ? undefined : this.decode(full, raw)
    const now = Date.now()
    if (entry === undefined || entry.staleAt <= now) {
      this.#counters.misses++
      return undefined
    }
    this.#counters.hits++
    if (l1 !== undefined && l1.epoch === epoch) l1.set(full, entry.value, entry.staleAt - now, this.tagKeys(entry.tags))
    return entry.value
  }

  async #deleteFull(fulls: string[], op: string): Promise<number> {
    const count = await this.#call(op, fulls[0]!, 0, () => this.#backend.delete(fulls))
    this.#evictLocal(fulls)
    return count
  }

  #evictLocal(fulls: string[]): void {
    const l1 = this.#l1
    if (l1 !== undefined) for (const full of fulls) l1.delete(full)
    this.#rt.bus?.publishKeys(fulls)
  }

  /** Runs one store call: timed, failures absorbed into `fallback` (or thrown in strict mode). */
  async #call<R>(op: string, key: string, fallback: R, run: () => Promise<R>): Promise<R> {
    const started = performance.now()
    try {
      const result = await run()
      this.#succeeded(op, key, started)
      return result
    } catch (error) {
      this.#rt.fail(op, key, error, this.#counters)
      return fallback
    }
  }

  #succeeded(op: string, key: string, started: number): void {
    const rt = this.#rt
    if (performance.now() - started >= rt.slowMs) rt.timed(op, key, started)
    if (rt.degraded) rt.recovered()
  }
}

function checkTags(tags: readonly string[] | undefined): string[] | undefined {
  if (tags === undefined) return undefined
  if (!isList(tags)) throw new InvalidArgumentError('tags: must be an array of non-empty strings')
  for (let i = 0; i < tags.length; i++) {
    if (typeof tags[i] !== 'string' || tags[i]!.length === 0) throw new InvalidArgumentError(`tags[${i}]: must be a non-empty string`)
  }
  return tags.length === 0 ? undefined : (tags as string[])
}

export function breakerState(backend: CacheBackend): BreakerState {
  const state = (backend as { state?: unknown }).state
  return state === 'open' || state === 'half-open' ? state : 'closed'
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Array.isArray without narrowing (a readonly array type would narrow to any[]). */
function isList(value: unknown): boolean {
  return Array.isArray(value)
}
