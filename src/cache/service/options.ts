// Options of createCache, of namespaces and of single calls, with their defaults, and their validation.
import { toMs, type Duration } from '../../config/duration.ts'
import type { Logger } from '../../config/logger.ts'
import type { CacheBackend } from '../backend.ts'
import type { RedisConnectionOptions } from '../../redis/connection-options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import type { MemoryBackendOptions } from '../backends/memory.ts'
import type { BreakerOptions } from '../backends/resilient.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'

/** Turns values into the strings stored in the cache and back. Must throw on values it cannot handle. */
export interface Serializer {
  serialize(value: unknown): string
  deserialize(text: string): unknown
}

export interface LockOptions {
  /** Also coalesce concurrent misses across processes with a Redis lock. Default `false` (in-process only). */
  distributed?: boolean
  /** How long the lock is held at most (the factory should finish within it). Default `'10s'`. */
  ttl?: Duration
  /** How long a waiter waits for the lock holder's value before running the factory itself. Default `'5s'`. */
  wait?: Duration
}

/** Defaults a namespace applies to its calls; a child namespace inherits its parent's. */
export interface NamespaceOptions {
  /** Default time to live of entries. Default `'1h'`. Must be positive. */
  ttl?: Duration
  /** ± percentage applied at random to every TTL (avalanche protection), 0..100. Default `0`. E.g. `10` = ±10%. */
  jitter?: number
  /** TTL of null/undefined factory results (penetration protection). Default `'30s'`; `0` = do not cache them. */
  nullTtl?: Duration
  /** Stale-while-revalidate grace period: how long past its TTL a value is still served while it is refreshed. Default `0` (off). */
  grace?: Duration
  /** Stampede protection of getOrSet. */
  lock?: LockOptions
}

export interface L1Config {
  /** Most entries kept in process memory (LRU). Default `10000`. */
  maxEntries?: number
  /**
   * Longest an entry lives in L1, whatever its own TTL. Default `'1m'`. An entry written by this process lives
   * min(its ttl, l1.ttl); one read from L2 lives l1.ttl (capped at its logical expiry when it has a grace header).
   * Writes in other processes evict at once through pub/sub; this bound covers messages lost during an outage.
   */
  ttl?: Duration
}

export interface CacheOptions extends NamespaceOptions {
  /** Redis connection options, or an open RedisConnection (not closed by `close()`). Selects the Redis L2. */
  redis?: RedisConnectionOptions | RedisConnection
  /** Any CacheBackend as L2 (used when `redis` is not given). Default: an in-process MemoryBackend. */
  backend?: CacheBackend
  /**
   * Bounds of the embedded MemoryBackend (used when neither `redis` nor `backend` is given):
   * `{ maxEntries?: 100000, maxBytes?: 256 MiB, sweepIntervalMs?: 1000 }`.
   */
  memory?: MemoryBackendOptions
  /** Root namespace. Default `'cache'`. Keys are `${globalPrefix}${namespace}:${key}`. */
  namespace?: string
  /** Per-call L2 timeout: no cache call waits longer for the store. Default `1000` ms. */
  timeout?: Duration
  /** `true`: store failures throw to the caller. Default `false`: reads miss, writes are skipped with one warning per outage. */
  strict?: boolean
  /** Value serializer. Default JSON (`JSON.stringify` / `JSON.parse`). */
  serializer?: Serializer
  /** Largest serialized value accepted, in bytes (UTF-8). Default `1048576` (1 MiB). Larger → ValueTooLargeError. */
  maxValueBytes?: number
  /** Two-tier mode: an in-process LRU (L1) over the backend (L2). Default `false` (off). */
  l1?: false | L1Config
  /**
   * Publish key/pattern/tag invalidations for other processes' L1. Default: on when `l1` is on. Turn it on in
   * processes without L1 that write keys other processes hold in L1.
   */
  broadcastInvalidations?: boolean
  /** Circuit breaker of the Redis L2 (ResilientBackend): `{ failureThreshold?: 5, openFor?: '5s' }`, or `false` for timeouts only. */
  breaker?: BreakerOptions | false
  /** Operations slower than this are logged at warn and kept in `slowOperations()`. Default `100` ms. */
  slowThreshold?: Duration
  /** Where warnings go. Default: the library logger (`skalds:cache`). */
  logger?: Logger
}

export interface SetOptions {
  /** Time to live. Default: the namespace's `ttl`. */
  ttl?: Duration
  /** Tags to invalidate this entry by (`invalidateTags`). */
  tags?: string[]
  /** ± percentage jitter for this call. Default: the namespace's `jitter`. */
  jitter?: number
  /** Grace period for this entry. Default: the namespace's `grace`. */
  grace?: Duration
}

export interface GetOrSetOptions extends SetOptions {
  /** TTL of a null/undefined result. Default: the namespace's `nullTtl`; `0` = not cached. */
  nullTtl?: Duration
  /** Stampede protection for this call. Default: the namespace's `lock`. */
  lock?: LockOptions
}

export interface WriteThroughOptions extends SetOptions {
  /** Patterns (within the namespace) invalidated after the write, e.g. `['list:*']`. */
  invalidatePatterns?: string[]
  /** Tags invalidated after the write. */
  invalidateTags?: string[]
}

export interface CounterOptions {
  /** TTL given to the counter when this call creates it. Default: the namespace's `ttl`. */
  ttl?: Duration
}

/** Per-namespace defaults in milliseconds. @internal */
export interface ResolvedDefaults {
  ttlMs: number
  jitter: number
  nullTtlMs: number
  graceMs: number
  lockDistributed: boolean
  lockTtlMs: number
  lockWaitMs: number
}

export const ROOT_DEFAULTS: ResolvedDefaults = {
  ttlMs: 3_600_000,
  jitter: 0,
  nullTtlMs: 30_000,
  graceMs: 0,
  lockDistributed: false,
  lockTtlMs: 10_000,
  lockWaitMs: 5_000,
}

export function positiveMs(value: Duration, field: string): number {
  const ms = toMs(value, field)
  if (ms <= 0) throw new InvalidArgumentError(`${field}: must be positive, got ${String(value)}`)
  return ms
}

export function checkJitter(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new InvalidArgumentError(`${field}: must be a percentage from 0 to 100, got ${String(value)}`)
  }
  return value
}

/** Applies a namespace's options over its parent's resolved defaults. */
export function resolveDefaults(options: NamespaceOptions, parent: ResolvedDefaults): ResolvedDefaults {
  return {
    ttlMs: options.ttl === undefined ? parent.ttlMs : positiveMs(options.ttl, 'ttl'),
    jitter: options.jitter === undefined ? parent.jitter : checkJitter(options.jitter, 'jitter'),
    nullTtlMs: options.nullTtl === undefined ? parent.nullTtlMs : toMs(options.nullTtl, 'nullTtl'),
    graceMs: options.grace === undefined ? parent.graceMs : toMs(options.grace, 'grace'),
    lockDistributed: options.lock?.distributed ?? parent.lockDistributed,
    lockTtlMs: options.lock?.ttl === undefined ? parent.lockTtlMs : positiveMs(options.lock.ttl, 'lock.ttl'),
    lockWaitMs: options.lock?.wait === undefined ? parent.lockWaitMs : toMs(options.lock.wait, 'lock.wait'),
  }
}

/** Namespace names: non-empty, no glob characters, no leading `__` (reserved for internal keys). */
export function checkNamespace(name: unknown, field: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`${field}: must be a non-empty string`)
  if (/[*?[\]\\]/.test(name)) throw new InvalidArgumentError(`${field}: ${JSON.stringify(name)} must not contain glob characters (* ? [ ] \\)`)
  if (name.startsWith('__')) throw new InvalidArgumentError(`${field}: ${JSON.stringify(name)} must not start with "__" (reserved)`)
  return name
}

export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as unknown,
}
