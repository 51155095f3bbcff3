// Typed pub/sub on Redis: TypedPubSub over the Redis layer's pub/sub transport.
import type { Logger } from '../../config/logger.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { RedisTransport } from '../../redis/redis-transport.ts'
import { resolveTypedPubSubOptions, type TypedPubSubOptions, TypedPubSub } from './pubsub.ts'

export type RedisPubSubOptions = TypedPubSubOptions

/**
 * Validates RedisPubSub options; bad input throws InvalidArgumentError (`RedisPubSub: field: reason`). Defaults:
 * the connection's keyPrefix and logger.
 */
export function resolveRedisPubSubOptions(connection: RedisConnection, options: RedisPubSubOptions | undefined): { prefix: string; logger: Logger } {
  resolveTypedPubSubOptions(options, 'RedisPubSub')
  return { prefix: options?.prefix ?? connection.keyPrefix, logger: options?.logger ?? connection.logger }
}

/**
 * Typed pub/sub on Redis. Channels are prefixed with the connection's keyPrefix unless `prefix` says otherwise.
 * On a cluster whose server has sharded pub/sub, channels use SSUBSCRIBE/SPUBLISH unless `sharded: false`.
 */
export class RedisPubSub extends TypedPubSub {
  constructor(connection: RedisConnection, options: RedisPubSubOptions = {}) {
    const o = resolveRedisPubSubOptions(connection, options)
    super(new RedisTransport(connection, o.logger), o)
  }
}
