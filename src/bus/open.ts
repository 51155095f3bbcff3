// openBus(): the engine that the configuration names, loaded on demand so that an embedded process never loads
// the Kafka client (or the Redis Streams engine) it does not use.
import type { BusEngine, KafkaEnvConfig, RedisEnvConfig } from '../config/env.ts'
import type { Logger } from '../config/logger.ts'
import { BusArgumentError } from './errors.ts'
import type { KafkaBusOptions } from './kafka.ts'
import { MemoryBus, type MemoryBusOptions } from './memory.ts'
import type { RedisStreamsBusOptions } from './redis-streams.ts'
import type { EventBus } from './types.ts'

/** The part of `loadConfig()`'s result that picks the bus: pass the whole config, or write these fields by hand. */
export interface BusConfig {
  /** `memory`, `redis-streams` or `kafka` (loadConfig: `SKALDS_BUS`, default Kafka when brokers are given, else
   *  Redis Streams when Redis is, else memory). */
  bus: BusEngine
  /** Where Redis is; required for `redis-streams`. */
  redis?: RedisEnvConfig | undefined
  /** The brokers; required for `kafka`. */
  kafka?: KafkaEnvConfig | undefined
}

/** Tuning of each engine; only the chosen engine's part is used. */
export interface OpenBusOptions {
  /** Given to the engine (and to the Redis connection the bus opens). Default: `createLogger('skalds:bus')`. */
  logger?: Logger
  memory?: Omit<MemoryBusOptions, 'logger'>
  redisStreams?: Omit<RedisStreamsBusOptions, 'connection' | 'logger'>
  kafka?: Omit<KafkaBusOptions, 'brokers' | 'logger'>
}

/**
 * Opens the bus `config.bus` names. For `redis-streams` it connects to `config.redis` and closes that connection
 * when the bus closes; for `kafka` it uses `config.kafka.brokers`.
 */
export async function openBus(config: BusConfig, options: OpenBusOptions = {}): Promise<EventBus> {
  const logger = options.logger === undefined ? {} : { logger: options.logger }
  switch (config.bus) {
    case 'memory':
      return new MemoryBus({ ...options.memory, ...logger })
    case 'redis-streams': {
      if (!config.redis) throw new BusArgumentError('openBus: bus is redis-streams but config.redis is missing (set REDIS_URL or REDIS_HOST)')
      const [{ RedisConnection }, { RedisStreamsBus }] = await Promise.all([import('../redis/connection.ts'), import('./redis-streams.ts')])
      const connection = await RedisConnection.connect({ ...config.redis, ...logger })
      try {
        const bus = new RedisStreamsBus({ ...options.redisStreams, ...logger, connection })
        // The connection is ours, not the caller's: it goes when the bus does.
        const close = bus.close.bind(bus)
        bus.close = async () => {
          try {
            await close()
          } finally {
            await connection.close()
          }
        }
        return bus
      } catch (error) {
        await connection.close()
        throw error
      }
    }
    case 'kafka': {
      if (!config.kafka) throw new BusArgumentError('openBus: bus is kafka but config.kafka is missing (set KAFKA_BROKERS or KAFKA_HOST)')
      // KafkaBus speaks PLAINTEXT only; dropping the credentials silently would fail later and obscurely.
      if (config.kafka.username !== undefined || config.kafka.password !== undefined) {
        throw new BusArgumentError('openBus: KAFKA_USERNAME / KAFKA_PASSWORD (SASL) are not supported by KafkaBus yet; unset them')
      }
      const { KafkaBus } = await import('./kafka.ts')
      return new KafkaBus({ ...options.kafka, ...logger, brokers: config.kafka.brokers })
    }
    default:
      throw new BusArgumentError(`openBus: unknown bus ${JSON.stringify(config.bus)} (memory, redis-streams or kafka)`)
  }
}
