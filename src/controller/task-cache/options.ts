// The task caches' options, field by field with their defaults and units (docs/task-caches.md has the table),
// validated with zod through src/config/options.ts so a bad one is a TaskCacheOptionsError naming the field.
import type { CacheService } from '../../cache/service/cache-service.ts'
import type { Logger } from '../../config/logger.ts'
import { integer, nonEmptyString, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { SkaldsError } from '../../model/errors.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import type { SkaldStateReader } from '../../state/reader.ts'
import type { TaskStore } from '../../store/task-store.ts'

/** The cached queries, one child namespace each. */
export const TASK_CACHE_TYPES = ['status', 'progress', 'statistics', 'list', 'skaldTasks', 'execution'] as const
export type TaskCacheType = (typeof TASK_CACHE_TYPES)[number]

/** How long an entry of each type lives in the cache, ms. An entry is also dropped earlier by `changed()`. */
export interface TaskCacheTtls {
  /** `task(id)`: the stored Task; default 300000 (5 min) */
  status: number
  /** `progress(id)`: the progress view; default 120000 (2 min) */
  progress: number
  /** `statistics()`: counts per status, total, class names; default 600000 (10 min) */
  statistics: number
  /** `list(query)`: one page of a query; default 180000 (3 min) */
  list: number
  /** `skaldTasks(skaldId)`: the tasks of one Skald; default 300000 (5 min) */
  skaldTasks: number
  /** `execution(id)`: the execution summary; default 60000 (1 min) */
  execution: number
}

/** The seed's TTLs (seed 001), ms. */
export const TASK_CACHE_DEFAULT_TTLS: Readonly<TaskCacheTtls> = Object.freeze({
  status: 300_000,
  progress: 120_000,
  statistics: 600_000,
  list: 180_000,
  skaldTasks: 300_000,
  execution: 60_000,
})

export interface TaskCachesOptions {
  /** where every answer comes from (the cache only remembers it); required */
  store: TaskStore
  /**
   * the caller's CacheService (usually its root); the task caches live in a child namespace of it. `undefined` = no
   * caching: every read goes to the store, through the same API. Required (pass `undefined` explicitly)
   */
  cache: CacheService | undefined
  /** Skalds' wire state (progress, heartbeat, checkpoint, log); default none: views carry the stored task only */
  state?: SkaldStateReader
  /** TTL per cache type, ms, field by field over {@link TASK_CACHE_DEFAULT_TTLS} */
  ttls?: Partial<TaskCacheTtls>
  /**
   * child namespace of `cache` that holds every key; default `'skalds-task-cache'`. The full namespace may not start
   * with `skalds:` or `task:` (Skalds' wire keys: the Python controller deletes `skalds:{id}:*` of a lost node)
   */
  namespace?: string
  /**
   * longest a read waits for the cache before it answers from the store, ms; default 150. The cache call goes on in
   * the background (its own `timeout` and circuit breaker still apply), so a dead Redis costs a read this much at most
   */
  readTimeoutMs?: number
  /**
   * longest `changed()` and the manual invalidations wait for Redis to confirm, ms; default 1000. Past it, or on a
   * Redis failure, this controller reads from the store until a full flush of the task caches succeeds
   */
  invalidateTimeoutMs?: number
  /**
   * after a confirmed invalidation, the same entries are dropped once more this much later, ms; default 1000; 0 = off.
   * It catches a value another controller read from the store before the change and wrote to Redis after it
   */
  reinvalidateAfterMs?: number
  /** the newest tasks `skaldTasks()` returns (and caches) per Skald; default 100, at most 10000 */
  skaldTasksLimit?: number
  /** the period of the cleanup job `startCleanup()` runs, ms; default 1800000 (30 min) */
  cleanupIntervalMs?: number
  /**
   * the connection the cache's Redis L2 runs on; optional. Used for `cacheStats().connection.ready` and to check its
   * `keyPrefix` against Skalds' wire keys. Never closed by the task caches
   */
  connection?: RedisConnection
  /** default `createLogger('skalds:task-cache')` */
  logger?: Logger
}

/** The task caches' options are not valid; the message names the field (`taskCaches: ttls.list: …`). */
export class TaskCacheOptionsError extends SkaldsError {
  constructor(message: string) {
    super('E_TASK_CACHE_OPTIONS', message)
  }
}

/** A read or invalidation was given a bad argument (an empty id, an unknown change kind). */
export class TaskCacheArgumentError extends SkaldsError {
  constructor(message: string) {
    super('E_TASK_CACHE_ARGUMENT', message)
  }
}

export interface ResolvedTaskCachesOptions {
  store: TaskStore
  cache: CacheService | undefined
  state: SkaldStateReader | undefined
  ttls: TaskCacheTtls
  namespace: string
  readTimeoutMs: number
  invalidateTimeoutMs: number
  reinvalidateAfterMs: number
  skaldTasksLimit: number
  cleanupIntervalMs: number
  connection: RedisConnection | undefined
  logger: Logger | undefined
}

const ms = integer(1)
const ttlsSchema = optionsObject({
  status: ms.optional(),
  progress: ms.optional(),
  statistics: ms.optional(),
  list: ms.optional(),
  skaldTasks: ms.optional(),
  execution: ms.optional(),
})

const schema = optionsObject({
  store: opaque<TaskStore>().refine((v) => typeof v === 'object' && v !== null && typeof (v as Partial<TaskStore>).get === 'function', 'must be a TaskStore'),
  cache: opaque<CacheService | undefined>().refine(
    (v) => v === undefined || (typeof v === 'object' && v !== null && typeof (v as Partial<CacheService>).getOrSet === 'function'),
    'must be a CacheService, or undefined for no caching',
  ),
  state: opaque<SkaldStateReader>().optional(),
  ttls: ttlsSchema.optional(),
  namespace: nonEmptyString().optional(),
  readTimeoutMs: ms.optional(),
  invalidateTimeoutMs: ms.optional(),
  reinvalidateAfterMs: integer(0).optional(),
  skaldTasksLimit: integer(1, 10_000).optional(),
  cleanupIntervalMs: ms.optional(),
  connection: opaque<RedisConnection>().optional(),
  logger: opaque<Logger>().optional(),
})

const invalid = (message: string): TaskCacheOptionsError => new TaskCacheOptionsError(message)

/** Why a key path would be touched by a pattern over Skalds' wire keys, or undefined when it is safe. */
export function wireClash(path: string): string | undefined {
  for (const wire of ['skalds', 'task']) {
    if (path === wire || path.startsWith(`${wire}:`)) return `${JSON.stringify(path)} starts with "${wire}:", where Skalds' wire keys live`
  }
  return undefined
}

export function resolveTaskCachesOptions(options: TaskCachesOptions): ResolvedTaskCachesOptions {
  if (typeof options !== 'object' || options === null) throw invalid('taskCaches: options: must be an object')
  if (!('cache' in options)) throw invalid('taskCaches: cache: is required (a CacheService, or undefined for no caching)')
  const o = parseOptions(schema, options, invalid, 'taskCaches')
  const ttls = { ...TASK_CACHE_DEFAULT_TTLS }
  for (const type of TASK_CACHE_TYPES) ttls[type] = o.ttls?.[type] ?? ttls[type]
  const namespace = o.namespace ?? 'skalds-task-cache'
  if (/[*?[\]\\]/.test(namespace) || namespace.startsWith('__')) throw invalid(`taskCaches: namespace: ${JSON.stringify(namespace)} must not contain glob characters nor start with "__"`)
  if (o.cache !== undefined) {
    const full = `${o.cache.name}:${namespace}`
    const clash = wireClash(full) ?? (o.connection === undefined ? undefined : wireClash(o.connection.keyPrefix + full))
    if (clash !== undefined) throw invalid(`taskCaches: namespace: the keys would live under ${clash}; give the cache another root namespace (or prefix)`)
  }
  return {
    store: o.store,
    cache: o.cache,
    state: o.state,
    ttls,
    namespace,
    readTimeoutMs: o.readTimeoutMs ?? 150,
    invalidateTimeoutMs: o.invalidateTimeoutMs ?? 1000,
    reinvalidateAfterMs: o.reinvalidateAfterMs ?? 1000,
    skaldTasksLimit: o.skaldTasksLimit ?? 100,
    cleanupIntervalMs: o.cleanupIntervalMs ?? 1_800_000,
    connection: o.connection,
    logger: o.logger,
  }
}
