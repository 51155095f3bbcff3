// cacheStats(): keys and hit rates per cache type, Redis memory, the connection's state, and what the task caches
// themselves counted (reads answered from the store after the deadline, invalidations not confirmed, flushes).
import type { BreakerState, CacheHealth, CacheStatistics } from '../../cache/service/cache-service.ts'
import type { NamespaceStats } from '../../cache/service/stats.ts'
import { TASK_CACHE_TYPES, type TaskCacheTtls, type TaskCacheType } from './options.ts'

export interface TaskCacheCounters {
  /** hits / (hits + misses); 0 before the first read */
  hitRate: number
  /** reads answered from the cache */
  hits: number
  /** reads the cache could not answer (absent, expired, or the store failed) */
  misses: number
  /** cache store failures */
  errors: number
}

export interface TaskCacheTypeStats extends TaskCacheCounters {
  /** live keys of this type in the cache (the tag set of `list` / `skaldTasks` included); undefined when not countable */
  keys: number | undefined
  /** the TTL entries of this type are written with, ms */
  ttlMs: number
}

/** What the task caches counted themselves, since they were created. */
export interface TaskCacheOwnCounters {
  /** reads answered from the store because the cache did not answer within `readTimeoutMs` */
  readTimeouts: number
  /** reads answered from the store without asking the cache: an invalidation was not confirmed yet */
  bypassed: number
  /** values answered but not cached (too large for the cache, or built while the Skald state was unreadable) */
  uncached: number
  /** invalidations Redis confirmed */
  invalidations: number
  /** invalidations not confirmed (Redis failed or was too slow): each one makes reads bypass the cache until a flush */
  unconfirmed: number
  /** full flushes that ended a bypass */
  flushes: number
}

export interface TaskCacheStats {
  /** false when the task caches were given no cache (every read goes to the store) */
  enabled: boolean
  /** the CacheService namespace holding every key, e.g. `cache:skalds-task-cache`; undefined when disabled */
  namespace: string | undefined
  types: Record<TaskCacheType, TaskCacheTypeStats>
  overall: TaskCacheCounters & { keys: number | undefined }
  /** memory the cache's store uses as a whole (Redis `used_memory`, summed over masters); undefined when unknown */
  memory: { usedBytes: number | undefined }
  connection: {
    /** the cache's L2; `none` when disabled */
    backend: 'redis' | 'memory' | 'none'
    /** `healthy`: a ping answered and the breaker is closed */
    status: 'healthy' | 'degraded' | 'disabled'
    breaker: BreakerState
    /** ping round trip, ms, when it answered */
    latencyMs: number | undefined
    /** why it is degraded */
    error: string | undefined
    /** the RedisConnection's own view (connected and probed); undefined when no `connection` was given */
    ready: boolean | undefined
  }
  /** true while reads bypass the cache (an invalidation is not confirmed yet) */
  bypassing: boolean
  counters: TaskCacheOwnCounters
}

function rate(hits: number, misses: number): number {
  return hits + misses === 0 ? 0 : hits / (hits + misses)
}

/** Assembles the report from the cache's answers (any may be undefined: no cache). */
export function buildStats(input: {
  names: Record<TaskCacheType, string> | undefined
  root: string | undefined
  ttls: TaskCacheTtls
  counters: Record<string, NamespaceStats> | undefined
  statistics: CacheStatistics | undefined
  health: CacheHealth | undefined
  ready: boolean | undefined
  bypassing: boolean
  own: TaskCacheOwnCounters
}): TaskCacheStats {
  const types = {} as Record<TaskCacheType, TaskCacheTypeStats>
  const overall = { hits: 0, misses: 0, errors: 0, hitRate: 0, keys: input.statistics === undefined ? undefined : (0 as number | undefined) }
  for (const type of TASK_CACHE_TYPES) {
    const name = input.names?.[type]
    const c = name === undefined ? undefined : input.counters?.[name]
    const keys = name === undefined ? undefined : input.statistics?.namespaces[name]?.keys
    const hits = (c?.hits ?? 0) + (c?.staleHits ?? 0)
    const misses = c?.misses ?? 0
    types[type] = { keys, hits, misses, errors: c?.errors ?? 0, hitRate: rate(hits, misses), ttlMs: input.ttls[type] }
    overall.hits += hits
    overall.misses += misses
    overall.errors += c?.errors ?? 0
    overall.keys = keys === undefined || overall.keys === undefined ? undefined : overall.keys + keys
  }
  overall.hitRate = rate(overall.hits, overall.misses)
  const health = input.health
  return {
    enabled: input.names !== undefined,
    namespace: input.root,
    types,
    overall,
    memory: { usedBytes: input.statistics?.memory.usedBytes },
    connection: {
      backend: health?.backend ?? 'none',
      status: health?.status ?? 'disabled',
      breaker: health?.breaker ?? 'closed',
      latencyMs: health?.latencyMs,
      error: health?.error,
      ready: input.ready,
    },
    bypassing: input.bypassing,
    counters: { ...input.own },
  }
}
