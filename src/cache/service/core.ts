// One namespace's store-facing core: key building, entry decoding, writes through L2 + L1 + eviction bus,
// failure absorption and timing. CacheService (the public facade) and Loader (getOrSet) both work through it.
import type { Duration } from '../../config/duration.ts'
import type { CacheBackend } from '../backend.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { hasHeader, openEnvelope, sealEnvelope } from './envelope.ts'
import type { L1Cache, L1Space } from './l1.ts'
import { checkJitter, type ResolvedDefaults } from './options.ts'
import type { CacheRuntime } from './runtime.ts'
import type { NamespaceCounters } from './stats.ts'

/** A stored entry as read from L2. */
export interface StoredEntry {
  value: unknown
  /** epoch ms when it turns stale; Infinity without a grace period */
  staleAt: number
  tags: string[] | undefined
}

/** `readEntry` result when the store failed (already counted and logged). */
export const STORE_FAILED: unique symbol = Symbol('store failed')

export class NamespaceCore {
  readonly rt: CacheRuntime
  readonly backend: CacheBackend
  readonly l1: L1Cache | undefined
  /** this namespace's L1 entries */
  readonly space: L1Space | undefined
  /** `${globalPrefix}${namespace}:` */
  readonly base: string
  readonly defaults: ResolvedDefaults
  readonly counters: NamespaceCounters

  constructor(runtime: CacheRuntime, namespace: string, defaults: ResolvedDefaults) {
    this.rt = runtime
    this.backend = runtime.backend
    this.l1 = runtime.l1
    this.base = `${runtime.globalPrefix}${namespace}:`
    this.space = runtime.l1?.space(this.base)
    this.defaults = defaults
    this.counters = runtime.stats.counters(namespace)
  }

  /** Reads and decodes one entry; STORE_FAILED when the store failed. Fills L1 with fresh entries. */
  async readEntry(key: string, full: string, op: string): Promise<StoredEntry | undefined | typeof STORE_FAILED> {
    const l1 = this.l1
    l1?.beginRead(full)
    const started = performance.now()
    let raw: string | undefined
    try {
      raw = await this.backend.get(full)
    } catch (error) {
      l1?.endRead(full)
      this.rt.fail(op, full, error, this.counters)
      return STORE_FAILED
    }
    const clean = l1 !== undefined && l1.endRead(full)
    this.succeeded(op, full, started)
    if (raw === undefined) return undefined
    const entry = this.decode(full, raw)
    if (entry !== undefined && clean) {
      const fresh = entry.staleAt - Date.now()
      if (fresh > 0) this.space!.fill(key, entry.value, fresh, this.tagKeys(entry.tags))
    }
    return entry
  }

  /** Deserializes a stored entry; an unreadable one counts as an error and reads as a miss. */
  decode(full: string, raw: string): StoredEntry | undefined {
    try {
      if (!hasHeader(raw)) return { value: this.rt.serializer.deserialize(raw), staleAt: Infinity, tags: undefined }
      const envelope = openEnvelope(raw, full)
      return { value: this.rt.serializer.deserialize(envelope.payload), staleAt: envelope.staleAt, tags: envelope.tags }
    } catch (error) {
      this.unreadable(full, error)
      return undefined
    }
  }

  unreadable(full: string, error: unknown): void {
    this.counters.errors++
    this.rt.logger.warn({ err: error, key: full }, 'cache entry could not be deserialized; read as a miss')
  }

  /**
   * @internal Writes an entry to L2 (unless `toStore` is false: the store just failed), then L1, then tells other
   * processes to evict their copies. Resolves false when the store write failed or was skipped.
   */
  async store(key: string, full: string, value: unknown, payload: string, ttlMs: number, graceMs: number, tags: string[] | undefined, toStore: boolean, op: string): Promise<boolean> {
    const tagKeys = tags === undefined ? undefined : this.tagKeys(tags)
    let ok = false
    if (toStore) {
      const staleAt = graceMs > 0 ? Date.now() + ttlMs : undefined
      const stored = tagKeys === undefined && staleAt === undefined ? payload : sealEnvelope(payload, staleAt, tags)
      const physicalMs = ttlMs + graceMs
      const started = performance.now()
      try {
        await this.backend.set(full, stored, physicalMs)
        if (tagKeys !== undefined) await this.backend.addToTags(tagKeys, full, physicalMs)
        this.succeeded(op, full, started)
        ok = true
      } catch (error) {
        this.rt.fail(op, full, error, this.counters)
      }
    }
    this.space?.set(key, value, ttlMs, tagKeys)
    this.rt.bus?.publishKeys([full])
    return ok
  }

  /** The TTL of one write in ms: the call's or the namespace's, with jitter applied. */
  ttlOf(ttl: Duration | undefined, jitter: number | undefined): number {
    let ms = ttl === undefined ? this.defaults.ttlMs : this.rt.durationMs(ttl, 'ttl', true)
    const spread = jitter === undefined ? this.defaults.jitter : checkJitter(jitter, 'jitter')
    if (spread > 0) ms = Math.max(1, Math.round(ms * (1 + ((Math.random() * 2 - 1) * spread) / 100)))
    return ms
  }

  /** */
  graceOf(grace: Duration | undefined): number {
    return grace === undefined ? this.defaults.graceMs : this.rt.durationMs(grace, 'grace', false)
  }

  /** `<prefix><ns>:__lock:<key>` */
  lockKey(key: string): string {
    return `${this.base}__lock:${key}`
  }

  /** `<prefix><ns>:__tag:<tag>` for each tag */
  tagKeys(tags: readonly string[] | undefined): string[] | undefined {
    if (tags === undefined || tags.length === 0) return undefined
    return tags.map((tag) => `${this.base}__tag:${tag}`)
  }

  full(key: string): string {
    checkKey(key)
    return this.base + key
  }


  /** get()'s L2 path, kept to one async frame: the hot path of an L2 hit. */
  evictLocal(fulls: string[]): void {
    const l1 = this.l1
    if (l1 !== undefined) for (const full of fulls) l1.delete(full)
    this.rt.bus?.publishKeys(fulls)
  }

  /** Runs one store call: timed, failures absorbed into `fallback` (or thrown in strict mode). */
  async call<R>(op: string, key: string, fallback: R, run: () => Promise<R>): Promise<R> {
    const started = performance.now()
    try {
      const result = await run()
      this.succeeded(op, key, started)
      return result
    } catch (error) {
      this.rt.fail(op, key, error, this.counters)
      return fallback
    }
  }

  succeeded(op: string, key: string, started: number): void {
    const rt = this.rt
    if (performance.now() - started >= rt.slowMs) rt.timed(op, key, started)
    if (rt.degraded) rt.recovered()
  }
}

export function checkTags(tags: readonly string[] | undefined): string[] | undefined {
  if (tags === undefined) return undefined
  if (!isList(tags)) throw new InvalidArgumentError('tags: must be an array of non-empty strings')
  for (let i = 0; i < tags.length; i++) {
    if (typeof tags[i] !== 'string' || tags[i]!.length === 0) throw new InvalidArgumentError(`tags[${i}]: must be a non-empty string`)
  }
  return tags.length === 0 ? undefined : (tags as string[])
}

/** Array.isArray without narrowing (a readonly array type would narrow to any[]). */
export function isList(value: unknown): boolean {
  return Array.isArray(value)
}

/** Keys: non-empty strings not starting with `__` (reserved for the lock and tag keys). */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError(`key: must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  if (key.charCodeAt(0) === 95 && key.charCodeAt(1) === 95) throw new InvalidArgumentError(`key: ${JSON.stringify(key)} must not start with "__" (reserved for locks and tags)`)
}
