// The embedded L2: an in-process store with the Redis backend's observable behaviour (TTLs, counters, glob
// deletes, tags, pub/sub), bounded in entries and bytes with least-recently-used eviction.
import { EventEmitter } from 'node:events'
import type { BackendEntry, BackendListener, CacheBackend } from '../backend.ts'
import { InvalidArgumentError, RedisCommandError } from '../../redis/errors.ts'
import type { Duration } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import { duration, integer, opaque, optionsObject, parseOptions, renamed } from '../../config/options.ts'
import { globToRegExp } from '../../redis/glob.ts'
import { checkIncrement, checkTtl } from './validate.ts'

export interface MemoryBackendOptions {
  /** Most entries kept; the least recently used is evicted past it. Default `100000`. */
  maxEntries?: number
  /** Most bytes of keys + values kept (UTF-16 length × 2, an estimate); LRU eviction past it. Default `256 MiB`. */
  maxBytes?: number
  /** How often expired entries are swept (reads also drop them lazily). Default `'1s'`. */
  sweepInterval?: Duration
  /** @deprecated use `sweepInterval` (same value, in ms). */
  sweepIntervalMs?: number
  /** Where failures of pub/sub listeners are logged. Default: the library logger (`skalds:cache`). */
  logger?: Logger
}

export interface ResolvedMemoryBackendOptions {
  maxEntries: number
  maxBytes: number
  sweepIntervalMs: number
}

const interval = duration({ positive: true })

/** The embedded backend's options; createCache validates its `memory` option with it before opening anything. */
export const memoryBackendSchema = optionsObject({
  maxEntries: integer(1).optional(),
  maxBytes: integer(1).optional(),
  sweepInterval: interval.optional(),
  sweepIntervalMs: interval.optional(),
  logger: opaque<Logger>().optional(),
}).superRefine((o, ctx) => renamed(o, ctx, 'sweepInterval', 'sweepIntervalMs'))

/** Validates MemoryBackend options and fills the defaults; bad input throws InvalidArgumentError naming the field. */
export function resolveMemoryBackendOptions(options: MemoryBackendOptions = {}): ResolvedMemoryBackendOptions {
  const o = parseOptions(memoryBackendSchema, options, (message) => new InvalidArgumentError(message))
  return { maxEntries: o.maxEntries ?? 100_000, maxBytes: o.maxBytes ?? 256 * 1024 * 1024, sweepIntervalMs: o.sweepInterval ?? o.sweepIntervalMs ?? 1000 }
}

interface Slot {
  value: string
  /** epoch ms; Infinity = no expiry */
  expiresAt: number
  bytes: number
}

export class MemoryBackend implements CacheBackend {
  readonly kind = 'memory' as const
  readonly #entries = new Map<string, Slot>()
  readonly #tags = new Map<string, { keys: Set<string>; expiresAt: number }>()
  readonly #bus = new EventEmitter()
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #logger: Logger
  #bytes = 0
  #timer: NodeJS.Timeout | undefined

  constructor(options: MemoryBackendOptions = {}) {
    const resolved = resolveMemoryBackendOptions(options)
    this.#maxEntries = resolved.maxEntries
    this.#maxBytes = resolved.maxBytes
    this.#logger = options.logger ?? createLogger('skalds:cache')
    this.#bus.setMaxListeners(0)
    this.#timer = setInterval(() => this.#sweep(), resolved.sweepIntervalMs)
    this.#timer.unref()
  }

  /** Entries currently held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#read(key)?.value)
  }

  getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return Promise.resolve(keys.map((key) => this.#read(key)?.value))
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return settle(() => this.#write(key, value, ttlMs))
  }

  setMany(entries: readonly BackendEntry[]): Promise<void> {
    return settle(() => {
      // Every entry is checked before any is written: bad input never leaves a half-applied batch.
      for (const entry of entries) checkTtl(entry.ttlMs, entry.key)
      for (const entry of entries) this.#write(entry.key, entry.value, entry.ttlMs)
    })
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return settle(() => {
      if (ttlMs === undefined) throw new InvalidArgumentError(`ttlMs of ${JSON.stringify(key)}: required (a lock must expire)`)
      checkTtl(ttlMs, key)
      if (this.#read(key)) return false
      this.#write(key, value, ttlMs)
      return true
    })
  }

  delete(keys: readonly string[]): Promise<number> {
    let count = 0
    for (const key of keys) if (this.#read(key) && this.#remove(key)) count++
    return Promise.resolve(count)
  }

  deleteIfEquals(key: string, expected: string): Promise<boolean> {
    const slot = this.#read(key)
    if (!slot || slot.value !== expected) return Promise.resolve(false)
    this.#remove(key)
    return Promise.resolve(true)
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(this.#read(key) !== undefined)
  }

  ttl(key: string): Promise<number | null | undefined> {
    const slot = this.#read(key)
    if (!slot) return Promise.resolve(undefined)
    return Promise.resolve(slot.expiresAt === Infinity ? null : Math.max(0, slot.expiresAt - Date.now()))
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return settle(() => {
      if (ttlMs === undefined) throw new InvalidArgumentError(`ttlMs of ${JSON.stringify(key)}: required`)
      checkTtl(ttlMs, key)
      const slot = this.#read(key)
      if (!slot) return false
      slot.expiresAt = expiryOf(ttlMs)
      return true
    })
  }

  increment(key: string, by: number, ttlMs?: number): Promise<number> {
    return settle(() => {
      checkIncrement(by, key)
      checkTtl(ttlMs, key)
      const slot = this.#read(key)
      if (!slot) {
        this.#write(key, String(by), ttlMs)
        return by
      }
      if (!/^-?\d+$/.test(slot.value)) throw new RedisCommandError(`increment ${key}: value is not an integer or out of range`)
      const next = Number(slot.value) + by
      if (!Number.isSafeInteger(next)) throw new RedisCommandError(`increment ${key}: increment or decrement would overflow`)
      // Rewritten through #write so the byte count follows the new length; the expiry is kept.
      const remaining = slot.expiresAt === Infinity ? undefined : Math.max(1, slot.expiresAt - Date.now())
      this.#write(key, String(next), remaining)
      return next
    })
  }

  deleteMatching(pattern: string): Promise<number> {
    const regexp = globToRegExp(pattern)
    let count = 0
    for (const key of [...this.#entries.keys()]) {
      if (regexp.test(key) && this.#read(key) && this.#remove(key)) count++
    }
    return Promise.resolve(count)
  }

  countMatching(pattern: string): Promise<number> {
    const regexp = globToRegExp(pattern)
    let count = 0
    for (const key of [...this.#entries.keys()]) if (regexp.test(key) && this.#read(key)) count++
    return Promise.resolve(count)
  }

  addToTags(tagKeys: readonly string[], key: string, ttlMs?: number): Promise<void> {
    return settle(() => {
      checkTtl(ttlMs, key)
      const expiresAt = expiryOf(ttlMs)
      for (const tagKey of tagKeys) {
        const tag = this.#tags.get(tagKey)
        if (tag && tag.expiresAt > Date.now()) {
          tag.keys.add(key)
          tag.expiresAt = Math.max(tag.expiresAt, expiresAt)
        } else {
          this.#tags.set(tagKey, { keys: new Set([key]), expiresAt })
        }
      }
    })
  }

  invalidateTags(tagKeys: readonly string[]): Promise<number> {
    let count = 0
    for (const tagKey of tagKeys) {
      const tag = this.#tags.get(tagKey)
      this.#tags.delete(tagKey)
      if (!tag || tag.expiresAt <= Date.now()) continue
      for (const key of tag.keys) if (this.#read(key) && this.#remove(key)) count++
    }
    return Promise.resolve(count)
  }

  publish(channel: string, message: string): Promise<void> {
    // Delivered on a later tick, as a network bus would: publishers never run subscribers' code synchronously.
    // A throwing listener is logged and skipped: it must neither starve the others nor crash the process.
    setImmediate(() => {
      for (const listener of this.#bus.listeners(channel) as BackendListener[]) {
        try {
          listener(message)
        } catch (error) {
          this.#logger.error({ err: error, channel }, `pub/sub listener of ${channel} threw; other listeners still run`)
        }
      }
    })
    return Promise.resolve()
  }

  subscribe(channel: string, listener: BackendListener): Promise<() => Promise<void>> {
    this.#bus.on(channel, listener)
    return Promise.resolve(() => {
      this.#bus.off(channel, listener)
      return Promise.resolve()
    })
  }

  ping(): Promise<number> {
    return Promise.resolve(0)
  }

  info(): Promise<{ usedMemoryBytes?: number; keys?: number }> {
    return Promise.resolve({ usedMemoryBytes: this.#bytes, keys: this.#entries.size })
  }

  close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#bus.removeAllListeners()
    return Promise.resolve()
  }

  // ---- internals ----

  /** A live entry, refreshed as most recently used; expired entries are dropped on sight. */
  #read(key: string): Slot | undefined {
    const slot = this.#entries.get(key)
    if (!slot) return undefined
    if (slot.expiresAt <= Date.now()) {
      this.#remove(key)
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, slot)
    return slot
  }

  #write(key: string, value: string, ttlMs: number | undefined): void {
    checkTtl(ttlMs, key)
    const bytes = (key.length + value.length) * 2
    if (bytes > this.#maxBytes) {
      throw new InvalidArgumentError(`value of ${key}: ${bytes} bytes exceeds the memory backend's maxBytes ${this.#maxBytes}`)
    }
    this.#remove(key)
    this.#entries.set(key, { value, expiresAt: expiryOf(ttlMs), bytes })
    this.#bytes += bytes
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#remove(oldest)
    }
  }

  #remove(key: string): boolean {
    const slot = this.#entries.get(key)
    if (!slot) return false
    this.#entries.delete(key)
    this.#bytes -= slot.bytes
    return true
  }

  #sweep(): void {
    const now = Date.now()
    for (const [key, slot] of this.#entries) if (slot.expiresAt <= now) this.#remove(key)
    for (const [tagKey, tag] of this.#tags) if (tag.expiresAt <= now) this.#tags.delete(tagKey)
  }
}

/** Runs synchronous work as a promise: a throw becomes a rejection, as from a networked backend. */
function settle<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run())
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)))
  }
}

function expiryOf(ttlMs: number | undefined): number {
  return ttlMs === undefined ? Infinity : Date.now() + ttlMs
}
