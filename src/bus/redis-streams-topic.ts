// What the Redis Streams bus (redis-streams.ts) and its group members (redis-streams-consumer.ts) share: a topic's
// key layout, the resolved options, and the part of the bus a member uses. A module of its own, so that the bus
// can create members without the two modules importing each other.
import type { Logger } from '../config/logger.ts'
import type { RedisConnection } from '../redis/connection.ts'

/** @internal RedisStreamsBus resolves its options. */
export interface ResolvedRedisStreamsOptions {
  partitions: number
  maxLen: number
  leaseMs: number
  blockMs: number
  batchSize: number
  namespace: string
  deadLetterSuffix: string
}

/**
 * Key layout of one topic; every key carries the hash tag `{<topic>}` so that a topic's streams, leases and member
 * set share one cluster slot (one multi-stream XREADGROUP reads all a member's partitions).
 * @internal
 */
export class TopicKeys {
  readonly base: string
  constructor(connection: RedisConnection, namespace: string, topic: string) {
    this.base = `${connection.keyPrefix}${namespace}{${topic}}`
  }
  /** Hash: `partitions`. */
  get meta(): string {
    return `${this.base}:meta`
  }
  stream(partition: number): string {
    return `${this.base}:p${partition}`
  }
  /** String holding the consumer id that owns `partition` for `group` (PX leaseMs). */
  lease(group: string, partition: number): string {
    return `${this.base}:lease:${group}:p${partition}`
  }
  /** Sorted set of a group's live members, scored by lease expiry (server ms). */
  members(group: string): string {
    return `${this.base}:members:${group}`
  }
}

/** The part of RedisStreamsBus a subscription uses. @internal */
export interface RedisStreamsBusContext {
  readonly connection: RedisConnection
  readonly logger: Logger
  readonly options: ResolvedRedisStreamsOptions
  keys(topic: string): TopicKeys
  deadLetterTopic(topic: string): string
  publishRaw(topic: string, key: string, value: string): Promise<void>
}
