// createCache(): picks the L2 (Redis, a given backend, or the embedded memory backend), wires the runtime, and
// returns the root CacheService.
import { toMs } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import type { CacheBackend } from '../backend.ts'
import { MemoryBackend } from '../backends/memory.ts'
import { RedisBackend } from '../backends/redis.ts'
import { ResilientBackend } from '../backends/resilient.ts'
import { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { CacheService } from './cache-service.ts'
import { L1Cache } from './l1.ts'
import { checkNamespace, jsonSerializer, resolveDefaults, ROOT_DEFAULTS, type CacheOptions } from './options.ts'
import { CacheRuntime } from './runtime.ts'

/** Opens a cache. See docs/cache.md for every option. */
export async function createCache(options: CacheOptions = {}): Promise<CacheService> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options: must be an object')
  const namespace = checkNamespace(options.namespace ?? 'cache', 'namespace')
  const defaults = resolveDefaults(options, ROOT_DEFAULTS)
  const timeoutMs = options.timeout === undefined ? 1000 : toMs(options.timeout, 'timeout')
  if (timeoutMs <= 0) throw new InvalidArgumentError(`timeout: must be positive, got ${String(options.timeout)}`)
  const slowThresholdMs = options.slowThreshold === undefined ? 100 : toMs(options.slowThreshold, 'slowThreshold')
  const maxValueBytes = options.maxValueBytes ?? 1024 * 1024
  if (!Number.isInteger(maxValueBytes) || maxValueBytes <= 0) throw new InvalidArgumentError(`maxValueBytes: must be a positive integer, got ${maxValueBytes}`)
  const serializer = options.serializer ?? jsonSerializer
  if (typeof serializer.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw new InvalidArgumentError('serializer: must have serialize(value) → string and deserialize(text) → value')
  }
  let l1: L1Cache | undefined
  if (options.l1 !== undefined && options.l1 !== false) {
    const maxEntries = options.l1.maxEntries ?? 10_000
    if (!Number.isInteger(maxEntries) || maxEntries <= 0) throw new InvalidArgumentError(`l1.maxEntries: must be a positive integer, got ${maxEntries}`)
    const maxTtlMs = options.l1.ttl === undefined ? 60_000 : toMs(options.l1.ttl, 'l1.ttl')
    if (maxTtlMs <= 0) throw new InvalidArgumentError(`l1.ttl: must be positive, got ${String(options.l1.ttl)}`)
    l1 = new L1Cache({ maxEntries, maxTtlMs })
  }
  const logger = options.logger ?? createLogger('skalds:cache')
  const closers: Array<() => Promise<void>> = []
  const { backend, globalPrefix } = await openBackend(options, timeoutMs, logger, closers)
  const runtime = new CacheRuntime({
    backend,
    globalPrefix,
    serializer,
    maxValueBytes,
    strict: options.strict ?? false,
    timeoutMs,
    slowThresholdMs,
    logger,
    l1,
    broadcast: options.broadcastInvalidations ?? l1 !== undefined,
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
