// Options of createCache, of namespaces and of single calls, with their defaults, and their validation.
import { z } from 'zod'
import { toMs, type Duration } from '../../config/duration.ts'
import type { Logger } from '../../config/logger.ts'
import { boolean, duration, integer, opaque, optionsObject, parseOptions, show } from '../../config/options.ts'
import type { CacheBackend } from '../backend.ts'
import { connectionOptionsSchema, type RedisConnectionOptions } from '../../redis/connection-options.ts'
import { RedisConnection } from '../../redis/connection.ts'
import { memoryBackendSchema, type MemoryBackendOptions } from '../backends/memory.ts'
import { breakerSchema, type BreakerOptions } from '../backends/resilient.ts'
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
   * `{ maxEntries?: 100000, maxBytes?: 256 MiB, sweepInterval?: '1s' }`.
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

/** Why a namespace name is refused, or undefined: non-empty, no glob characters, no leading `__` (internal keys). */
function namespaceProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'must be a non-empty string'
  if (/[*?[\]\\]/.test(name)) return `${JSON.stringify(name)} must not contain glob characters (* ? [ ] \\)`
  if (name.startsWith('__')) return `${JSON.stringify(name)} must not start with "__" (reserved)`
  return undefined
}

/** Namespace names: non-empty, no glob characters, no leading `__` (reserved for internal keys). */
export function checkNamespace(name: unknown, field: string): string {
  const problem = namespaceProblem(name)
  if (problem !== undefined) throw new InvalidArgumentError(`${field}: ${problem}`)
  return name as string
}

const positive = duration({ positive: true })
const percentage = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100, {
  error: (issue) => `must be a percentage from 0 to 100, got ${show(issue.input)}`,
})

const namespaceShape = {
  ttl: positive.optional(),
  jitter: percentage.optional(),
  nullTtl: duration().optional(),
  grace: duration().optional(),
  lock: optionsObject({ distributed: boolean().optional(), ttl: positive.optional(), wait: duration().optional() }).optional(),
}
const namespaceSchema = optionsObject(namespaceShape)
type ParsedNamespace = z.output<typeof namespaceSchema>

function applyDefaults(o: ParsedNamespace, parent: ResolvedDefaults): ResolvedDefaults {
  return {
    ttlMs: o.ttl ?? parent.ttlMs,
    jitter: o.jitter ?? parent.jitter,
    nullTtlMs: o.nullTtl ?? parent.nullTtlMs,
    graceMs: o.grace ?? parent.graceMs,
    lockDistributed: o.lock?.distributed ?? parent.lockDistributed,
    lockTtlMs: o.lock?.ttl ?? parent.lockTtlMs,
    lockWaitMs: o.lock?.wait ?? parent.lockWaitMs,
  }
}

/** Applies a namespace's options over its parent's resolved defaults. */
export function resolveDefaults(options: NamespaceOptions, parent: ResolvedDefaults): ResolvedDefaults {
  return applyDefaults(parseOptions(namespaceSchema, options ?? {}, invalid), parent)
}

const invalid = (message: string) => new InvalidArgumentError(message)

/** The L1 tier: how many entries, and the longest any of them lives. */
export interface ResolvedL1Options {
  maxEntries: number
  maxTtlMs: number
}

const l1Schema = optionsObject({ maxEntries: integer(1).default(10_000), ttl: positive.default(60_000) })

export interface ResolvedCacheOptions {
  namespace: string
  defaults: ResolvedDefaults
  timeoutMs: number
  slowThresholdMs: number
  maxValueBytes: number
  serializer: Serializer
  strict: boolean
  /** undefined: no L1 */
  l1: ResolvedL1Options | undefined
  broadcastInvalidations: boolean
}

const cacheSchema = optionsObject({
  ...namespaceShape,
  // An open connection, or options checked here so their errors name `redis.…` (connect() checks them again).
  redis: z.union([z.custom<RedisConnection>((v) => v instanceof RedisConnection, { error: 'must be RedisConnectionOptions or an open RedisConnection' }), connectionOptionsSchema]).optional(),
  backend: z.custom<CacheBackend>((v) => typeof v === 'object' && v !== null, { error: 'must be a CacheBackend' }).optional(),
  memory: memoryBackendSchema.optional(),
  namespace: z
    .custom<string>((v) => namespaceProblem(v) === undefined, { error: (issue) => namespaceProblem(issue.input) ?? 'invalid' })
    .default('cache'),
  timeout: positive.default(1000),
  strict: boolean().default(false),
  serializer: z
    .custom<Serializer>((v) => typeof v === 'object' && v !== null && typeof (v as Serializer).serialize === 'function' && typeof (v as Serializer).deserialize === 'function', {
      error: 'must have serialize(value) → string and deserialize(text) → value',
    })
    .optional(),
  maxValueBytes: integer(1).default(1024 * 1024),
  l1: z.union([z.literal(false), l1Schema]).optional(),
  broadcastInvalidations: boolean().optional(),
  breaker: breakerSchema.optional(),
  slowThreshold: duration().default(100),
  logger: opaque<Logger>().optional(),
})

/**
 * Validates createCache options and fills the defaults; bad input throws InvalidArgumentError naming the field
 * (a malformed duration InvalidDurationError). The L2 choice (`redis` / `backend` / `memory`) is left to createCache.
 */
export function resolveCacheOptions(options: CacheOptions = {}): ResolvedCacheOptions {
  const o = parseOptions(cacheSchema, options, invalid)
  const l1 = o.l1 === undefined || o.l1 === false ? undefined : { maxEntries: o.l1.maxEntries, maxTtlMs: o.l1.ttl }
  return {
    namespace: o.namespace,
    defaults: applyDefaults(o, ROOT_DEFAULTS),
    timeoutMs: o.timeout,
    slowThresholdMs: o.slowThreshold,
    maxValueBytes: o.maxValueBytes,
    serializer: o.serializer ?? jsonSerializer,
    strict: o.strict,
    l1,
    broadcastInvalidations: o.broadcastInvalidations ?? l1 !== undefined,
  }
}

export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as unknown,
}
