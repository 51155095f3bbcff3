// createCache(): picks the L2 (Redis, a given backend, or the embedded memory backend), wires the runtime, and
// returns the root CacheService.
import { createLogger, type Logger } from '../../config/logger.ts'
import type { CacheBackend } from '../backend.ts'
import { MemoryBackend } from '../backends/memory.ts'
import { RedisBackend } from '../backends/redis.ts'
import { ResilientBackend } from '../backends/resilient.ts'
import { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { CacheService } from './cache-service.ts'
import { L1Cache } from './l1.ts'
import { resolveCacheOptions, type CacheOptions } from './options.ts'
import { CacheRuntime } from './runtime.ts'

/** Opens a cache. See docs/cache.md for every option. */
export async function createCache(options: CacheOptions = {}): Promise<CacheService> {
  const resolved = resolveCacheOptions(options)
  const { namespace, defaults, timeoutMs, slowThresholdMs, maxValueBytes, serializer } = resolved
  const l1 = resolved.l1 === undefined ? undefined : new L1Cache(resolved.l1)
  const logger = options.logger ?? createLogger('skalds:cache')
  const closers: Array<() => Promise<void>> = []
  const { backend, globalPrefix } = await openBackend(options, timeoutMs, logger, closers)
  const runtime = new CacheRuntime({
    backend,
    globalPrefix,
    serializer,
    maxValueBytes,
    strict: resolved.strict,
    timeoutMs,
    slowThresholdMs,
    logger,
    l1,
    broadcast: resolved.broadcastInvalidations,
    closers,
  })
  await runtime.start()
  return new CacheService(runtime, namespace, defaults)
}

async function openBackend(
  options: CacheOptions,
  timeoutMs: number,
  logger: Logger,
  closers: Array<() => Promise<void>>,
): Promise<{ backend: CacheBackend; globalPrefix: string }> {
  if (options.redis !== undefined) {
    let connection: RedisConnection
    if (options.redis instanceof RedisConnection) {
      connection = options.redis
    } else {
      // A strict cache fails fast with a clear error when Redis is unreachable. A non-strict one waits for the first
      // connection just as long, then starts degraded and keeps connecting in the background. An explicit
      // `waitForReady` wins (true: wait and throw; false: do not wait).
      const explicit = options.redis.waitForReady
      const strictStart = explicit ?? options.strict === true
      // The cache's timeout is the default command timeout, under either name the user may give one.
      const given = options.redis.commandTimeout !== undefined || options.redis.commandTimeoutMs !== undefined
      connection = await RedisConnection.connect({ logger, ...(given ? {} : { commandTimeout: timeoutMs }), ...options.redis, waitForReady: strictStart })
      if (explicit === undefined && !strictStart) {
        await connection.whenReady().catch((error: unknown) => {
          logger.warn({ err: error }, 'cache: Redis is unreachable at startup; starting degraded (reads fall through, writes skipped) and connecting in the background')
        })
      }
      closers.push(() => connection.close())
    }
    const redis = new RedisBackend(connection, { logger })
    // When the connection already bounds every command by the cache's timeout, a second timer per call is waste.
    const innerBoundsCalls = connection.options.commandTimeoutMs <= timeoutMs
    const backend = new ResilientBackend(redis, { timeout: timeoutMs, innerBoundsCalls, breaker: options.breaker ?? {}, logger })
    // Closed before the connection (closers run in order): the backend owns only its subscriber connection.
    closers.unshift(() => backend.close())
    return { backend, globalPrefix: connection.key('') }
  }
  if (options.breaker !== undefined) throw new InvalidArgumentError('breaker: applies to the Redis backend (`redis`); wrap a custom backend in ResilientBackend yourself')
  if (options.backend !== undefined) {
    if (options.memory !== undefined) throw new InvalidArgumentError('memory: applies to the embedded backend only, not to a given `backend`')
    return { backend: options.backend, globalPrefix: '' }
  }
  const memory = new MemoryBackend(options.memory)
  closers.push(() => memory.close())
  return { backend: memory, globalPrefix: '' }
}
