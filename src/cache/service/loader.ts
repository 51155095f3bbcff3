// getOrSet's load of one key after an L1 miss: read L2; serve fresh; serve stale within grace and refresh in the
// background; on a miss run the factory (under the distributed lock when asked) and store its value.
// The service coalesces concurrent callers of one key onto one load (its flight map).
import { randomUUID } from 'node:crypto'
import type { NamespaceCore, STORE_FAILED, StoredEntry } from './core.ts'
import type { GetOrSetOptions } from './options.ts'
import type { CacheRuntime, Flight, Loaded } from './runtime.ts'
import { loadWithLock } from './stampede.ts'
import type { NamespaceCounters } from './stats.ts'

export interface FactoryContext<T = unknown> {
  /** the key as given to getOrSet (without prefix or namespace) */
  key: string
  /** the stale value being refreshed (background refresh within a grace period), else undefined */
  stale: T | undefined
}

export type Factory<T> = (context: FactoryContext<T>) => Promise<T> | T

export class Loader {
  readonly #core: NamespaceCore
  readonly #rt: CacheRuntime
  readonly #counters: NamespaceCounters

  constructor(core: NamespaceCore) {
    this.#core = core
    this.#rt = core.rt
    this.#counters = core.counters
  }

  /** Loads a key for every caller of `flight`, counts them all once, and ends the flight. */
  async load(full: string, key: string, factory: Factory<unknown>, options: GetOrSetOptions | undefined, flight: Flight): Promise<unknown> {
    let source: Loaded['source'] = 0
    try {
      const entry = await this.#core.readEntry(key, full, 'getOrSet')
      // The common case, a fresh L2 hit, returns from here without another async frame.
      if (typeof entry !== 'symbol' && entry !== undefined && entry.staleAt > Date.now()) {
        source = 1
        return entry.value
      }
      const loaded = await this.#afterRead(full, key, factory, options, entry)
      source = loaded.source
      return loaded.value
    } finally {
      this.#rt.flights.delete(full)
      const callers = 1 + flight.joiners
      if (source === 1) this.#counters.hits += callers
      else if (source === 2) this.#counters.staleHits += callers
      else this.#counters.misses += callers
    }
  }

  /** After an L2 read that was not a fresh hit: stale (grace), miss, or store failure. */
  async #afterRead(
    full: string,
    key: string,
    factory: Factory<unknown>,
    options: GetOrSetOptions | undefined,
    entry: StoredEntry | undefined | typeof STORE_FAILED,
  ): Promise<Loaded> {
    const failed = typeof entry === 'symbol'
    if (!failed && entry !== undefined) {
      this.#refreshInBackground(full, key, factory, options, entry)
      return { value: entry.value, source: 2 }
    }
    // The store failed: run the factory, keep its value in L1 only (another store call could wait a full timeout).
    if (failed) return this.#compute(full, key, factory, options, undefined, false, false)
    const defaults = this.#core.defaults
    const distributed = options?.lock?.distributed ?? defaults.lockDistributed
    if (!distributed) return this.#compute(full, key, factory, options, undefined, false, true)
    const rt = this.#rt
    return loadWithLock<Loaded>({
      backend: rt.backend,
      notifier: rt.fills,
      lockKey: this.#core.lockKey(key),
      key: full,
      lockTtlMs: options?.lock?.ttl === undefined ? defaults.lockTtlMs : rt.durationMs(options.lock.ttl, 'lock.ttl', true),
      waitMs: options?.lock?.wait === undefined ? defaults.lockWaitMs : rt.durationMs(options.lock.wait, 'lock.wait', false),
      read: async () => {
        const filled = await this.#core.readEntry(key, full, 'getOrSet')
        return typeof filled === 'symbol' || filled === undefined || filled.staleAt <= Date.now() ? undefined : { value: filled.value, source: 1 }
      },
      compute: (announce) => this.#compute(full, key, factory, options, undefined, announce, true),
      onStoreError: (error) => this.#rt.fail('getOrSet lock', this.#core.lockKey(key), error, this.#counters),
    })
  }

  /** Runs the factory and stores its result; a SerializationError / ValueTooLargeError reaches the caller. */
  async #compute(
    full: string,
    key: string,
    factory: Factory<unknown>,
    options: GetOrSetOptions | undefined,
    stale: unknown,
    announce: boolean,
    toStore: boolean,
  ): Promise<Loaded> {
    const value = await factory({ key, stale })
    const service = this.#core
    if (value === null || value === undefined) {
      const nullTtl = options?.nullTtl === undefined ? service.defaults.nullTtlMs : this.#rt.durationMs(options.nullTtl, 'nullTtl', false)
      if (nullTtl > 0) {
        const payload = this.#rt.serialize(null, full)
        await service.store(key, full, null, payload, nullTtl, 0, options?.tags, toStore, 'getOrSet')
      }
    } else {
      const payload = this.#rt.serialize(value, full)
      await service.store(key, full, value, payload, service.ttlOf(options?.ttl, options?.jitter), service.graceOf(options?.grace), options?.tags, toStore, 'getOrSet')
    }
    if (announce) this.#rt.fills.announce(full)
    return { value, source: 0 }
  }

  /** One refresh per key at a time in this process; with the distributed lock, one across processes. */
  #refreshInBackground(full: string, key: string, factory: Factory<unknown>, options: GetOrSetOptions | undefined, stale: StoredEntry): void {
    const rt = this.#rt
    if (rt.refreshing.has(full)) return
    rt.refreshing.add(full)
    this.#refresh(full, key, factory, options, stale.value)
      .catch((error: unknown) => {
        rt.logger.warn({ err: error, key: full }, 'background refresh failed; the stale value is served until its grace period ends')
      })
      .finally(() => rt.refreshing.delete(full))
  }

  async #refresh(full: string, key: string, factory: Factory<unknown>, options: GetOrSetOptions | undefined, stale: unknown): Promise<void> {
    const distributed = options?.lock?.distributed ?? this.#core.defaults.lockDistributed
    if (!distributed) {
      await this.#compute(full, key, factory, options, stale, false, true)
      return
    }
    const rt = this.#rt
    const lockKey = this.#core.lockKey(key)
    const token = randomUUID()
    const lockTtl = options?.lock?.ttl === undefined ? this.#core.defaults.lockTtlMs : rt.durationMs(options.lock.ttl, 'lock.ttl', true)
    let acquired: boolean
    try {
      acquired = await rt.backend.setIfAbsent(lockKey, token, lockTtl)
    } catch (error) {
      rt.fail('refresh lock', lockKey, error, this.#counters)
      return
    }
    if (!acquired) return // another process refreshes it
    try {
      await this.#compute(full, key, factory, options, stale, true, true)
    } finally {
      await rt.backend.deleteIfEquals(lockKey, token).catch((error: unknown) => rt.fail('refresh unlock', lockKey, error, this.#counters))
    }
  }
}
