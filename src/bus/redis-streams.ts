// The Event Queue on Redis Streams. A topic is split into `partitions` streams (key hash → partition, like Kafka);
// a consumer group reads a partition through exactly one member at a time (a lease), which is what keeps per-key
// order with competing consumers. See docs/bus.md for the key layout and the failure model.
import { createLogger, type Logger } from '../config/logger.ts'
import type { RedisConnection } from '../redis/connection.ts'
import { z } from 'zod'
import type { Duration } from '../config/duration.ts'
import { duration, integer, nonEmptyString, opaque, optionsObject, parseOptions, renamed } from '../config/options.ts'
import { busArgument, checkName, checkPublish, checkSubscribe, DEFAULT_DEAD_LETTER_SUFFIX, keyHash, serializePayload } from './delivery.ts'
import { BusClosedError, BusPublishError } from './errors.ts'
import { RedisStreamsSubscription } from './redis-streams-consumer.ts'
import { type RedisStreamsBusContext, type ResolvedRedisStreamsOptions, TopicKeys } from './redis-streams-topic.ts'
import type { EventBus, EventHandler, SubscribeOptions, Subscription } from './types.ts'

export interface RedisStreamsBusOptions {
  /** The Redis connection (single, Sentinel or Cluster). The bus does not close it; it opens one duplicate per
   *  subscription for blocking reads. */
  connection: RedisConnection
  /** Streams per topic, fixed when a topic is first used (stored in the topic's meta hash; a later bus with another
   *  value adopts the stored one). More partitions allow more members of one group to work in parallel. Default 4. */
  partitions?: number
  /** Approximate bound on entries kept per partition stream (`XADD MAXLEN ~`). Entries trimmed before a group read
   *  them are lost to that group (logged). Default 100000 entries. */
  maxLen?: number
  /** Lease on a partition held by one group member; renewed every lease/3. A member that dies without closing
   *  loses its partitions (and their unacknowledged entries, taken over with XAUTOCLAIM) after at most this long.
   *  Default `'10s'`, at least 300 ms. */
  lease?: Duration
  /** @deprecated use `lease` (same value, in ms). */
  leaseMs?: number
  /** XREADGROUP BLOCK time: how long one read waits for new entries before re-checking leases. Default `'1s'`. */
  block?: Duration
  /** @deprecated use `block` (same value, in ms). */
  blockMs?: number
  /** Entries fetched per read (COUNT). Default 100. */
  batchSize?: number
  /** Namespace of the bus' keys, after the connection's key prefix. Default `skalds:bus:`. */
  namespace?: string
  /** Suffix of dead-letter topics. Default `.dlq`. */
  deadLetterSuffix?: string
  /** Default: `createLogger('skalds:bus')`. */
  logger?: Logger
}

const lease = duration({ min: 300, whole: true })
const block = duration({ min: 1, whole: true })

const redisStreamsSchema = optionsObject({
  connection: z.custom<RedisConnection>((v) => typeof v === 'object' && v !== null, { error: 'is required (a RedisConnection)' }),
  partitions: integer(1).default(4),
  maxLen: integer(1).default(100_000),
  lease: lease.optional(),
  leaseMs: lease.optional(),
  block: block.optional(),
  blockMs: block.optional(),
  batchSize: integer(1).default(100),
  namespace: z.string().default('skalds:bus:'),
  deadLetterSuffix: nonEmptyString().default(DEFAULT_DEAD_LETTER_SUFFIX),
  logger: opaque<Logger>().optional(),
}).superRefine((o, ctx) => {
  renamed(o, ctx, 'lease', 'leaseMs')
  renamed(o, ctx, 'block', 'blockMs')
})

/** Validates RedisStreamsBus options and fills the defaults; bad input is a BusArgumentError naming the field. */
export function resolveRedisStreamsOptions(options: RedisStreamsBusOptions): ResolvedRedisStreamsOptions {
  const o = parseOptions(redisStreamsSchema, options, busArgument, 'RedisStreamsBus')
  return {
    partitions: o.partitions,
    maxLen: o.maxLen,
    leaseMs: o.lease ?? o.leaseMs ?? 10_000,
    blockMs: o.block ?? o.blockMs ?? 1000,
    batchSize: o.batchSize,
    namespace: o.namespace,
    deadLetterSuffix: o.deadLetterSuffix,
  }
}

export class RedisStreamsBus implements EventBus, RedisStreamsBusContext {
  readonly kind = 'redis-streams'
  readonly connection: RedisConnection
  readonly logger: Logger
  readonly options: ResolvedRedisStreamsOptions
  readonly #partitionCounts = new Map<string, Promise<number>>()
  readonly #subscriptions = new Set<RedisStreamsSubscription>()
  #closed = false

  constructor(options: RedisStreamsBusOptions) {
    this.options = resolveRedisStreamsOptions(options)
    this.connection = options.connection
    this.logger = options.logger ?? createLogger('skalds:bus')
  }

  keys(topic: string): TopicKeys {
    return new TopicKeys(this.connection, this.options.namespace, topic)
  }

  deadLetterTopic(topic: string): string {
    return topic + this.options.deadLetterSuffix
  }

  /** The topic's partition count: the stored one, or this bus' `partitions` stored for everyone. */
  partitionCount(topic: string): Promise<number> {
    let pending = this.#partitionCounts.get(topic)
    if (!pending) {
      const meta = this.keys(topic).meta
      pending = (async () => {
        await this.connection.send(['HSETNX', meta, 'partitions', String(this.options.partitions)], { key: meta })
        const stored = Number(await this.connection.send(['HGET', meta, 'partitions'], { key: meta }))
        if (!Number.isSafeInteger(stored) || stored < 1) throw new BusPublishError(`topic ${topic}: ${meta} holds an invalid partition count`)
        if (stored !== this.options.partitions) {
          this.logger.warn(`bus topic ${topic}: uses ${stored} partitions (stored at first use); this bus was configured with ${this.options.partitions}`)
        }
        return stored
      })()
      pending.catch(() => this.#partitionCounts.delete(topic))
      this.#partitionCounts.set(topic, pending)
    }
    return pending
  }

  async publish(topic: string, key: string, payload: unknown): Promise<void> {
    checkName('topic', topic)
    await this.publishRaw(topic, key, serializePayload(topic, payload))
  }

  async publishRaw(topic: string, key: string, value: string): Promise<void> {
    checkPublish(this.#closed, topic, key, value)
    const partitions = await this.partitionCount(topic)
    const stream = this.keys(topic).stream(keyHash(key) % partitions)
    await this.connection.send(['XADD', stream, 'MAXLEN', '~', String(this.options.maxLen), '*', 'k', key, 'v', value], { key: stream })
  }

  async subscribe<T = unknown>(topic: string, group: string, handler: EventHandler<T>, options?: SubscribeOptions<T>): Promise<Subscription> {
    if (this.#closed) throw new BusClosedError(`subscribe ${topic}: the bus is closed`)
    const resolved = checkSubscribe(topic, group, handler, options)
    const partitions = await this.partitionCount(topic)
    const subscription = new RedisStreamsSubscription({
      bus: this,
      topic,
      group,
      partitions,
      handler: handler as EventHandler<unknown>,
      options: resolved,
      onClosed: (s) => this.#subscriptions.delete(s),
    })
    this.#subscriptions.add(subscription)
    try {
      await subscription.start()
    } catch (error) {
      await subscription.close()
      throw error
    }
    return subscription
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new BusClosedError('ping: the bus is closed')
    await this.connection.send(['PING'])
  }

  /** Closes every subscription; the connection stays open (it is the caller's). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#subscriptions].map((s) => s.close()))
  }
}
