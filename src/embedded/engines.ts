// openEngines(): every engine an all-in-one process (the demo) needs, from the configuration: the store, the bus,
// and the Skalds' state and the cache — on Redis when the configuration names one, in this process otherwise. The
// distributed parts open as runController / runSkald open them (openTaskStore, RedisConnection.connect, openBus),
// and one instance of each is shared by every part of the process.
import type { EventBus } from '../bus/types.ts'
import type { SkaldsConfig, StoreEnvConfig } from '../config/env.ts'
import type { Logger } from '../config/logger.ts'
import type { CacheService } from '../cache/service/cache-service.ts'
import type { RedisConnection } from '../redis/connection.ts'
import type { SkaldStateBackend } from '../state/backend.ts'
import type { TaskStore } from '../store/task-store.ts'

export interface OpenEnginesOptions {
  logger: Logger
  /** the SQLite file to use when the configuration names no MongoDB; default the configuration's own path */
  sqlitePath?: string
}

/** Which engine runs each part, in words a user reads (`memory`, `redis-streams`, `sqlite`, …). */
export interface EngineKinds {
  /** `sqlite` or `mongodb` */
  store: string
  /** `memory`, `redis-streams` or `kafka` */
  bus: string
  state: 'memory' | 'redis'
  /** the task caches' L2 */
  cache: 'memory' | 'redis'
}

export interface OpenedEngines {
  store: TaskStore
  bus: EventBus
  /** the Redis connection (state, leadership, caches); undefined on the embedded engines */
  redis: RedisConnection | undefined
  state: SkaldStateBackend
  /** an in-process cache for the task caches when there is no Redis; undefined with Redis (the controller opens its own on it) */
  cache: CacheService | undefined
  kinds: EngineKinds
  /** where the store is: the SQLite path, or MongoDB's database name */
  storeLocation: string
  /** closes everything, the last opened first; errors are logged, not thrown */
  close(): Promise<void>
}

/**
 * Opens the engines `config` names; whatever was opened is closed again when a later one fails.
 * @throws what openTaskStore, RedisConnection.connect and openBus throw
 */
export async function openEngines(config: SkaldsConfig, options: OpenEnginesOptions): Promise<OpenedEngines> {
  const log = options.logger
  const opened: Array<{ close(): Promise<void> }> = []
  const close = async (): Promise<void> => {
    for (const resource of opened.splice(0).reverse()) await resource.close().catch((error: unknown) => log.warn({ err: error }, 'close failed'))
  }
  try {
    const storeConfig: StoreEnvConfig = config.store.engine === 'sqlite' && options.sqlitePath !== undefined ? { engine: 'sqlite', path: options.sqlitePath } : config.store
    const { openTaskStore } = await import('../store/open.ts')
    const store = await openTaskStore(storeConfig)
    opened.push(store)

    let redis: RedisConnection | undefined
    let state: SkaldStateBackend
    let cache: CacheService | undefined
    if (config.redis) {
      const [{ RedisConnection }, { createRedisSkaldStateBackend }] = await Promise.all([import('../redis/connection.ts'), import('../state/redis.ts')])
      redis = await RedisConnection.connect({ ...config.redis, logger: log })
      opened.push(redis)
      state = createRedisSkaldStateBackend(redis)
    } else {
      const [{ MemorySkaldStateBackend }, { createCache }] = await Promise.all([import('../state/memory.ts'), import('../cache/service/create-cache.ts')])
      state = new MemorySkaldStateBackend()
      opened.push(state)
      // The task caches take any CacheService: without Redis, one on the embedded memory backend.
      const memoryCache = await createCache({ logger: log })
      opened.push(memoryCache)
      cache = memoryCache
    }

    const { openBus } = await import('../bus/open.ts')
    const bus = await openBus(config, { logger: log })
    opened.push(bus)

    return {
      store,
      bus,
      redis,
      state,
      cache,
      kinds: { store: store.kind, bus: bus.kind, state: redis ? 'redis' : 'memory', cache: redis ? 'redis' : 'memory' },
      storeLocation: storeConfig.engine === 'sqlite' ? storeConfig.path : `${redactUrl(storeConfig.url)} (database ${storeConfig.dbName})`,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/** A server URL without its password, fit to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}
