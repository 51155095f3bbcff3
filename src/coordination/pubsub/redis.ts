// Typed pub/sub on Redis: TypedPubSub over the Redis layer's pub/sub transport.
import type { RedisConnection } from '../../redis/connection.ts'
import { RedisTransport } from '../../redis/redis-transport.ts'
import { type TypedPubSubOptions, TypedPubSub } from './pubsub.ts'

export type RedisPubSubOptions = TypedPubSubOptions

/**
 * Typed pub/sub on Redis. Channels are prefixed with the connection's keyPrefix unless `prefix` says otherwise.
 * On a cluster whose server has sharded pub/sub, channels use SSUBSCRIBE/SPUBLISH unless `sharded: false`.
 */
export class RedisPubSub extends TypedPubSub {
  constructor(connection: RedisConnection, options: RedisPubSubOptions = {}) {
    super(new RedisTransport(connection, options.logger ?? connection.logger), { ...options, prefix: options.prefix ?? connection.keyPrefix })
  }
}
