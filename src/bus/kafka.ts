// The Event Queue on Kafka (3.5–4.1) through @platformatic/kafka, speaking what the Python Skalds expects
// (skalds-wire.md §2): string keys always set, UTF-8 JSON values, no compression, no headers.
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  type GroupAssignment,
  type GroupPartitionsAssigner,
  type Message,
  type MessagesStream,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka'
import { z } from 'zod'
import type { Duration } from '../config/duration.ts'
import { createLogger, type Logger } from '../config/logger.ts'
import { boolean, duration, integer, nonEmptyString, oneOf, opaque, optionsObject, parseOptions, renamed } from '../config/options.ts'
import {
  checkName,
  checkPublish,
  DEFAULT_DEAD_LETTER_SUFFIX,
  deliver,
  type DeliveryOutcome,
  busArgument,
  checkSubscribe,
  type ResolvedSubscribeOptions,
  serializePayload,
  settlesWithin,
  sleep,
} from './delivery.ts'
import { BusClosedError, BusPublishError, BusSubscribeError } from './errors.ts'
import type { EventBus, EventHandler, SubscribeOptions, Subscription } from './types.ts'

export interface KafkaBusOptions {
  /** Bootstrap brokers: `host:port` strings, or one comma-separated string (the KAFKA_BROKERS format). */
  brokers: string | string[]
  /** Client id sent to the brokers (consumers append `-<group>`). Default `skalds`. */
  clientId?: string
  /** Create a topic (and its `.dlq`) on first use when it does not exist. Default true. */
  createTopics?: boolean
  /** Partitions of topics the bus creates. Default 3. */
  partitions?: number
  /** Replication factor of topics the bus creates; -1 = the broker's `default.replication.factor`. Default -1. */
  replicationFactor?: number
  /** Producer acknowledgements: `all` (-1, every in-sync replica) or `leader` (1, Skalds' Python setting). Default `all`. */
  acks?: 'all' | 'leader'
  /** Consumer group session timeout: a member silent this long is removed and its partitions reassigned.
   *  Default `'10s'`, at least 1 s. */
  sessionTimeout?: Duration
  /** @deprecated use `sessionTimeout` (same value, in ms). */
  sessionTimeoutMs?: number
  /** Consumer heartbeat interval. Default `'1s'`, at least 100 ms. */
  heartbeatInterval?: Duration
  /** @deprecated use `heartbeatInterval` (same value, in ms). */
  heartbeatIntervalMs?: number
  /** Longest time a fetch waits for new records (bounds the publish → handle latency when idle). Default `'500ms'`. */
  maxWaitTime?: Duration
  /** @deprecated use `maxWaitTime` (same value, in ms). */
  maxWaitTimeMs?: number
  /** Records a consumer buffers ahead of its handler. Default 64. */
  prefetch?: number
  /** Timeout of one broker request. Default `'10s'`, at least 100 ms. */
  requestTimeout?: Duration
  /** @deprecated use `requestTimeout` (same value, in ms). */
  requestTimeoutMs?: number
  /** Retries of a failed broker request (with 250 ms … backoff) before an operation fails. Default 10. */
  retries?: number
  /** Suffix of dead-letter topics. Default `.dlq`. */
  deadLetterSuffix?: string
  /** Default: `createLogger('skalds:bus')`. */
  logger?: Logger
}

/** @internal KafkaBus resolves its options. */
export interface ResolvedKafkaOptions {
  brokers: string[]
  clientId: string
  createTopics: boolean
  partitions: number
  replicationFactor: number
  acks: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  maxWaitTimeMs: number
  prefetch: number
  requestTimeoutMs: number
  retries: number
  deadLetterSuffix: string
}

const BROKER = /^(?:[^\s:]+|\[[^\]]+\]):\d+$/
const ms = (min: number) => duration({ min, whole: true })

const kafkaSchema = optionsObject({
  brokers: z
    .union([z.string(), z.array(z.string())], { error: 'must be host:port strings, or one comma-separated string' })
    .transform((value) => (typeof value === 'string' ? value.split(',') : value).map((b) => b.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(BROKER, { error: (issue) => `${JSON.stringify(issue.input)} is not host:port` }))
        .min(1, 'must name at least one host:port'),
    ),
  clientId: nonEmptyString().default('skalds'),
  createTopics: boolean().default(true),
  partitions: integer(1).default(3),
  replicationFactor: z
    .custom<number>((v) => v === -1 || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1), {
      error: (issue) => `must be -1 (the broker's default) or an integer >= 1, got ${String(issue.input)}`,
    })
    .default(-1),
  acks: oneOf(['all', 'leader']).default('all'),
  sessionTimeout: ms(1000).optional(),
  sessionTimeoutMs: ms(1000).optional(),
  heartbeatInterval: ms(100).optional(),
  heartbeatIntervalMs: ms(100).optional(),
  maxWaitTime: ms(1).optional(),
  maxWaitTimeMs: ms(1).optional(),
  prefetch: integer(1).default(64),
  requestTimeout: ms(100).optional(),
  requestTimeoutMs: ms(100).optional(),
  retries: integer(0).default(10),
  deadLetterSuffix: nonEmptyString().default(DEFAULT_DEAD_LETTER_SUFFIX),
  logger: opaque<Logger>().optional(),
}).superRefine((o, ctx) => {
  renamed(o, ctx, 'sessionTimeout', 'sessionTimeoutMs')
  renamed(o, ctx, 'heartbeatInterval', 'heartbeatIntervalMs')
  renamed(o, ctx, 'maxWaitTime', 'maxWaitTimeMs')
  renamed(o, ctx, 'requestTimeout', 'requestTimeoutMs')
})

/** Validates KafkaBus options and fills the defaults; bad input is a BusArgumentError naming the field. */
export function resolveKafkaOptions(options: KafkaBusOptions): ResolvedKafkaOptions {
  const o = parseOptions(kafkaSchema, options, busArgument, 'KafkaBus')
  return {
    brokers: o.brokers,
    clientId: o.clientId,
    createTopics: o.createTopics,
    partitions: o.partitions,
    replicationFactor: o.replicationFactor,
    acks: o.acks === 'all' ? -1 : 1,
    sessionTimeoutMs: o.sessionTimeout ?? o.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: o.heartbeatInterval ?? o.heartbeatIntervalMs ?? 1000,
    maxWaitTimeMs: o.maxWaitTime ?? o.maxWaitTimeMs ?? 500,
    prefetch: o.prefetch,
    requestTimeoutMs: o.requestTimeout ?? o.requestTimeoutMs ?? 10_000,
    retries: o.retries,
    deadLetterSuffix: o.deadLetterSuffix,
  }
}

type StringMessage = Message<string, string, string, string>

/**
 * Round-robin over the members *subscribed to each topic*. The library's default assigner spreads every topic over
 * every member of the group; a Skald node joins one group (`nodeGroupId`) from several subscriptions, each on its
 * own topic, so partitions must only go to members that asked for their topic.
 */
export const subscriptionAwareAssigner: GroupPartitionsAssigner = (_current, members, _leaderTopics, metadata) => {
  // The library passes the leader's own topics; the group's topics are the union of every member's subscription.
  const topics = new Set([...members.values()].flatMap((member) => member.topics ?? []))
  const memberIds = [...members.keys()].sort()
  const result = new Map(memberIds.map((memberId) => [memberId, { memberId, assignments: new Map<string, GroupAssignment>() }]))
  let turn = 0
  for (const topic of [...topics].sort()) {
    const eligible = memberIds.filter((id) => members.get(id)?.topics?.includes(topic))
    const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0
    if (eligible.length === 0) continue
    for (let partition = 0; partition < partitions; partition++) {
      const memberId = eligible[turn++ % eligible.length]!
      const assignments = result.get(memberId)!.assignments
      let entry = assignments.get(topic)
      if (!entry) {
        entry = { topic, partitions: [] }
        assignments.set(topic, entry)
      }
      entry.partitions.push(partition)
    }
  }
  return [...result.values()]
}

class KafkaSubscription implements Subscription {
  readonly topic: string
  readonly group: string
  readonly #bus: KafkaBus
  readonly #handler: EventHandler<unknown>
  readonly #options: ResolvedSubscribeOptions<unknown>
  readonly #abort = new AbortController()
  readonly #onClosed: (s: KafkaSubscription) => void
  #consumer: Consumer<string, string, string, string> | undefined
  #stream: MessagesStream<string, string, string, string> | undefined
  #loop: Promise<void> | undefined
  #current: Promise<DeliveryOutcome> | undefined
  #abandoned = false
  #closing: Promise<void> | undefined
  /** Per partition, the last handled message whose offset is not committed yet. */
  readonly #toCommit = new Map<number, { offset: string; commit: () => Promise<unknown> }>()
  /** Partitions of which an event was handled since the last (re)assignment. */
  readonly #handledSinceAssignment = new Set<number>()
  #committing: Promise<void> | undefined

  constructor(bus: KafkaBus, topic: string, group: string, handler: EventHandler<unknown>, options: ResolvedSubscribeOptions<unknown>, onClosed: (s: KafkaSubscription) => void) {
    this.#bus = bus
    this.topic = topic
    this.group = group
    this.#handler = handler
    this.#options = options
    this.#onClosed = onClosed
  }

  async start(): Promise<void> {
    await this.#connect()
    this.#loop = this.#supervise()
  }

  /** Consumes until closed; when the consumer dies (broker away longer than its retries), makes a new one. */
  async #supervise(): Promise<void> {
    let delay = 500
    for (;;) {
      await this.#run(this.#stream!)
      if (this.#closing || this.#abandoned) return
      this.#bus.logger.warn(`bus ${this.topic} [${this.group}]: consumer stopped; reconnecting`)
      await this.#disconnect()
      for (;;) {
        if (!(await sleep(delay, this.#abort.signal))) return
        try {
          await this.#connect()
          delay = 500
          break
        } catch (error) {
          await this.#disconnect()
          delay = Math.min(delay * 2, 10_000)
          this.#bus.logger.warn({ err: error }, `bus ${this.topic} [${this.group}]: cannot rejoin yet (${(error as Error).message}); retrying in ${delay} ms`)
        }
      }
    }
  }

  async #disconnect(): Promise<void> {
    await this.#stream?.close().catch(() => {})
    // Leaving the group hands the partitions over now rather than after the session timeout.
    await Promise.resolve(this.#consumer?.close(true) as Promise<void> | undefined).catch(() => {})
  }

  async #connect(): Promise<void> {
    const o = this.#bus.options
    this.#consumer = new Consumer({
      clientId: `${o.clientId}-${this.group}`,
      bootstrapBrokers: o.brokers,
      groupId: this.group,
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTime: o.maxWaitTimeMs,
      highWaterMark: o.prefetch,
      timeout: o.requestTimeoutMs,
      retries: o.retries,
      retryDelay: 250,
      partitionAssigner: subscriptionAwareAssigner,
    })
    // The client emits 'error' when it gives up rejoining its group (all retries failed: the broker away, a long
    // pause); unheard, Node would throw it out of the process. Its stream then stalls, so end it: #supervise makes a
    // new consumer, which joins afresh.
    const joined = this.#consumer
    joined.on('error', (error: Error) => {
      if (this.#closing || this.#consumer !== joined) return
      this.#bus.logger.warn({ err: error, topic: this.topic, group: this.group }, `bus ${this.topic} [${this.group}]: consumer gave up (${error.message}); reconnecting`)
      void this.#stream?.close().catch(() => {})
    })
    // Offsets are committed only after the handler: a group without commits starts at `startFrom`.
    this.#stream = await this.#consumer.consume({
      topics: [this.topic],
      autocommit: false,
      mode: 'committed',
      fallbackMode: this.#options.startFrom,
    })
    // The start positions (committed, else `startFrom`) are looked up after joining: wait for them, so that an
    // event published once subscribe() resolved is not skipped by a `latest` lookup made after it.
    const stream = this.#stream
    const consumer = this.#consumer
    // Positions are looked up after every (re)assignment: commit the start position of partitions the group never
    // committed, so that a member taking a partition over later starts there and not at a newer `latest`.
    let firstSeal: Promise<void> | undefined
    const positioned = new Promise<void>((resolve) => {
      stream.on('offsets', () => {
        const seal = this.#sealStartPositions(stream, consumer)
        if (!firstSeal) {
          firstSeal = seal
          resolve()
        }
      })
    })
    // Wait for them, so that an event published once subscribe() resolved is not skipped by a later lookup.
    if (!(await settlesWithin(positioned.then(() => firstSeal), o.requestTimeoutMs))) {
      this.#bus.logger.warn(`bus ${this.topic} [${this.group}]: start offsets not known within ${o.requestTimeoutMs} ms; continuing`)
    }
    this.#stream.on('error', (error: Error) => {
      if (!this.#closing) this.#bus.logger.warn({ err: error, topic: this.topic, group: this.group }, `bus ${this.topic} [${this.group}]: consumer error: ${error.message}`)
    })
  }

  async #run(stream: MessagesStream<string, string, string, string>): Promise<void> {
    try {
      for await (const message of stream as AsyncIterable<StringMessage>) {
        if (this.#closing) return
        const current = deliver(
          {
            topic: this.topic,
            group: this.group,
            handler: this.#handler,
            options: this.#options,
            logger: this.#bus.logger,
            deadLetter: (record) => this.#bus.publishRaw(this.#bus.deadLetterTopic(this.topic), record.key, JSON.stringify(record)),
            signal: this.#abort.signal,
          },
          {
            // Python producers always set keys (a null key makes Python consumers drop the event); foreign null keys arrive as ''.
            key: message.key ?? '',
            value: message.value ?? '',
            id: `${message.partition}:${message.offset}`,
            timestamp: Number(message.timestamp),
            attempt: 1,
          },
        )
        this.#current = current
        const outcome = await current
        this.#current = undefined
        if (this.#abandoned || outcome === 'abandoned') return
        this.#handledSinceAssignment.add(message.partition)
        this.#toCommit.set(message.partition, { offset: String(message.offset + 1n), commit: () => message.commit() as Promise<void> })
        this.#flushCommitsSoon()
      }
    } catch (error) {
      if (!this.#closing) this.#bus.logger.error({ err: error, topic: this.topic, group: this.group }, `bus ${this.topic} [${this.group}]: consumer stopped: ${(error as Error).message}`)
    }
  }

  /**
   * Commits after the handler, without a round trip per event: one commit runs at a time and the next one takes the
   * latest handled offset of each partition (committing N+1 covers everything before it). Idle, an event is
   * committed at once; under load commits batch up. A crash loses at most the commits in flight: those events are
   * delivered again, as at-least-once allows.
   */
  #flushCommitsSoon(): void {
    this.#committing ??= this.#flushCommits().finally(() => {
      this.#committing = undefined
    })
  }

  async #flushCommits(): Promise<void> {
    while (this.#toCommit.size > 0) {
      const batch = [...this.#toCommit]
      this.#toCommit.clear()
      for (const [partition, pending] of batch) {
        try {
          await pending.commit()
        } catch (error) {
          // Typically a rebalance: the partition moved and its new owner re-reads from the last commit.
          this.#bus.logger.warn({ err: error, topic: this.topic, group: this.group }, `bus ${this.topic} [${this.group}]: offset commit ${partition}@${pending.offset} failed`)
        }
      }
    }
  }

  async #sealStartPositions(stream: MessagesStream<string, string, string, string>, consumer: Consumer<string, string, string, string>): Promise<void> {
    this.#handledSinceAssignment.clear()
    const partitions = consumer.assignments?.find((a) => a.topic === this.topic)?.partitions ?? []
    const start = new Map<number, bigint>()
    for (const partition of partitions) {
      const offset = stream.offsetsToFetch.get(`${this.topic}:${partition}`)
      if (offset !== undefined && offset >= 0n) start.set(partition, offset)
    }
    if (start.size === 0) return
    try {
      const commits = await consumer.listCommittedOffsets({ topics: [{ topic: this.topic, partitions: [...start.keys()] }] })
      const committed = commits.get(this.topic) ?? []
      for (const [partition, offset] of start) {
        if ((committed[partition] ?? -1n) >= 0n || this.#handledSinceAssignment.has(partition) || this.#toCommit.has(partition)) continue
        this.#toCommit.set(partition, {
          offset: String(offset),
          commit: () => consumer.commit({ offsets: [{ topic: this.topic, partition, offset, leaderEpoch: -1 }] }),
        })
      }
      this.#flushCommitsSoon()
      await this.#committing
    } catch (error) {
      this.#bus.logger.warn({ err: error, topic: this.topic, group: this.group }, `bus ${this.topic} [${this.group}]: cannot record start positions: ${(error as Error).message}`)
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort()
      const current = this.#current
      if (current && !(await settlesWithin(current, this.#options.closeTimeoutMs))) this.#abandoned = true
      await new Promise((resolve) => setImmediate(resolve)) // lets the loop record the last handled offset
      await this.#committing
      await this.#disconnect()
      if (!this.#abandoned) await this.#loop
      this.#onClosed(this)
    })()
    return this.#closing
  }
}

/** The Kafka engine. One producer for the bus; one consumer (group member) per subscription. */
export class KafkaBus implements EventBus {
  readonly kind = 'kafka'
  readonly options: ResolvedKafkaOptions
  readonly logger: Logger
  readonly #producer: Producer<string, string, string, string>
  readonly #admin: Admin
  readonly #topics = new Map<string, Promise<void>>()
  readonly #subscriptions = new Set<KafkaSubscription>()
  #closed = false

  constructor(options: KafkaBusOptions) {
    this.options = resolveKafkaOptions(options)
    this.logger = options.logger ?? createLogger('skalds:bus')
    const o = this.options
    const base = { bootstrapBrokers: o.brokers, timeout: o.requestTimeoutMs, retries: o.retries, retryDelay: 250 }
    this.#producer = new Producer({
      ...base,
      clientId: `${o.clientId}-producer`,
      serializers: stringSerializers,
      acks: o.acks,
      // Python consumers decode gzip always and the others only with optional libraries: send uncompressed.
      compression: 'none',
      // murmur2 & 0x7fffffff like the Java client and kafka-python: a key lands on the same partition whoever sends it.
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
    })
    this.#admin = new Admin({ ...base, clientId: `${o.clientId}-admin` })
  }

  deadLetterTopic(topic: string): string {
    return topic + this.options.deadLetterSuffix
  }

  /** Creates `topic` if absent (idempotent; an existing topic is left as it is). */
  ensureTopic(topic: string): Promise<void> {
    if (!this.options.createTopics) return Promise.resolve()
    let pending = this.#topics.get(topic)
    if (!pending) {
      pending = this.#admin
        .createTopics({ topics: [topic], partitions: this.options.partitions, replicas: this.options.replicationFactor })
        .then(
          () => {},
          (error: unknown) => {
            const found = (error as { findBy?: (k: string, v: string) => unknown }).findBy?.('apiId', 'TOPIC_ALREADY_EXISTS')
            if (!found) throw new BusPublishError(`kafka: cannot create topic ${topic}: ${(error as Error).message}`, { cause: error })
          },
        )
      pending.catch(() => this.#topics.delete(topic))
      this.#topics.set(topic, pending)
    }
    return pending
  }

  async publish(topic: string, key: string, payload: unknown): Promise<void> {
    checkName('topic', topic)
    await this.publishRaw(topic, key, serializePayload(topic, payload))
  }

  async publishRaw(topic: string, key: string, value: string): Promise<void> {
    checkPublish(this.#closed, topic, key, value)
    await this.ensureTopic(topic)
    try {
      await this.#producer.send({ messages: [{ topic, key, value }] })
    } catch (error) {
      throw new BusPublishError(`kafka: publish to ${topic} failed: ${(error as Error).message}`, { cause: error })
    }
  }

  async subscribe<T = unknown>(topic: string, group: string, handler: EventHandler<T>, options?: SubscribeOptions<T>): Promise<Subscription> {
    if (this.#closed) throw new BusClosedError(`subscribe ${topic}: the bus is closed`)
    const resolved = checkSubscribe(topic, group, handler, options) as ResolvedSubscribeOptions<unknown>
    await this.ensureTopic(topic)
    await this.ensureTopic(this.deadLetterTopic(topic))
    const subscription = new KafkaSubscription(this, topic, group, handler as EventHandler<unknown>, resolved, (s) => this.#subscriptions.delete(s))
    this.#subscriptions.add(subscription)
    try {
      await subscription.start()
    } catch (error) {
      await subscription.close()
      throw new BusSubscribeError(`kafka: cannot join group ${group} on ${topic}: ${(error as Error).message}`, { cause: error })
    }
    return subscription
  }

  /** A metadata request to the cluster (no topic is created or read). */
  async ping(): Promise<void> {
    if (this.#closed) throw new BusClosedError('ping: the bus is closed')
    try {
      await this.#admin.metadata({ topics: [] })
    } catch (error) {
      throw new BusPublishError(`kafka: the cluster does not answer: ${(error as Error).message}`, { cause: error })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#subscriptions].map((s) => s.close()))
    await this.#producer.close().catch(() => {})
    await this.#admin.close().catch(() => {})
  }
}
