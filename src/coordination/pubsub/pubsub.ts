// Typed pub/sub over a transport: JSON messages, optional validation, subscriptions that are async iterators with a
// bounded buffer, pattern subscriptions. One class for every backend, so the contract suite covers the logic once.
import { z } from 'zod'
import { createLogger, type Logger } from '../../config/logger.ts'
import { boolean, fn, integer, oneOf, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { escapeGlob } from '../../redis/glob.ts'
import { BoundedQueue, type OverflowPolicy } from './bounded-queue.ts'
import { PubSubClosedError } from '../../redis/errors.ts'
import type { PubSubTransport, RawListener } from '../../redis/pubsub-transport.ts'

export type { OverflowPolicy } from './bounded-queue.ts'

/** One message as a subscriber sees it. */
export interface PubSubMessage<T> {
  /** The channel it was published on (without the PubSub's prefix). */
  channel: string
  /** The decoded (and validated, when a `parse` is given) payload. */
  data: T
  /** The pattern that matched, for pattern subscriptions. */
  pattern?: string
}

/** Turns the decoded JSON into a T or throws (e.g. a zod schema's `parse`). */
export type MessageParser<T> = (value: unknown) => T

export interface PubSubSubscribeOptions<T> {
  /** Validates each decoded message; messages it throws on are dropped, counted in `invalid` and logged. Default: none. */
  parse?: MessageParser<T>
  /** Messages buffered while the consumer is busy. Default `1024` messages. */
  bufferSize?: number
  /** What a full buffer does: `drop-oldest` (default; counted in `dropped`) or `error` (the iterator throws). */
  overflow?: OverflowPolicy
  /** Sharded pub/sub (SSUBSCRIBE/SPUBLISH) for this channel. Default: on for a cluster whose server has it. */
  sharded?: boolean
}

/**
 * A live subscription: iterate it with `for await`, stop it with `unsubscribe()` (or `break`, which calls `return()`).
 * Resolved only once the server confirmed the subscription, so messages published afterwards are delivered.
 */
export interface PubSubSubscription<T> extends AsyncIterableIterator<PubSubMessage<T>, undefined>, AsyncDisposable {
  /** Stops receiving; messages already buffered are still yielded, then the iterator is done. Idempotent. */
  unsubscribe(): Promise<void>
  /** Messages discarded by the `drop-oldest` overflow policy. */
  readonly dropped: number
  /** Messages discarded because they were not JSON or `parse` rejected them. */
  readonly invalid: number
  /** Messages currently buffered. */
  readonly buffered: number
}

/** A named channel carrying messages of type T. */
export interface Channel<T> {
  readonly name: string
  publish(message: T): Promise<number>
  subscribe(options?: Omit<PubSubSubscribeOptions<T>, 'sharded'>): Promise<PubSubSubscription<T>>
}

export interface ChannelOptions<T> {
  /** Validates received messages (see PubSubSubscribeOptions.parse). Default: none. */
  parse?: MessageParser<T>
  /** Sharded pub/sub for this channel. Default: on for a cluster whose server has it. */
  sharded?: boolean
}

export interface TypedPubSubOptions {
  /** Prepended to every channel name and pattern. Default `''` (RedisPubSub: the connection's keyPrefix). */
  prefix?: string
  /** Where dropped / invalid messages are reported. Default: the library logger. */
  logger?: Logger
}

const DEFAULT_BUFFER = 1024

const invalid = (message: string) => new InvalidArgumentError(message)

const pubsubShape = { prefix: z.string({ error: 'must be a string' }).optional(), logger: opaque<Logger>().optional() }
const pubsubSchema = optionsObject(pubsubShape)

/** The shape of TypedPubSub's options, for subclasses that add their own (MemoryPubSub's `bus`). */
export const typedPubSubOptionsShape = pubsubShape

/**
 * Validates TypedPubSub options; bad input throws InvalidArgumentError (`TypedPubSub: field: reason`, `where` naming
 * the subclass).
 */
export function resolveTypedPubSubOptions(options: TypedPubSubOptions | undefined, where = 'TypedPubSub'): { prefix: string; logger: Logger } {
  const o = parseOptions(pubsubSchema, options ?? {}, invalid, where)
  return { prefix: o.prefix ?? '', logger: o.logger ?? createLogger('skalds:pubsub') }
}

const channelShape = { parse: fn<MessageParser<unknown>>().optional(), sharded: boolean().optional() }
const channelSchema = optionsObject(channelShape)
const subscribeSchema = optionsObject({
  ...channelShape,
  bufferSize: integer(1).optional(),
  overflow: oneOf(['drop-oldest', 'error']).optional(),
})

export interface ResolvedSubscribeOptions<T> {
  parse: MessageParser<T> | undefined
  /** messages */
  bufferSize: number
  overflow: OverflowPolicy
  sharded: boolean | undefined
}

/** Validates subscribe options (`bufferSize: must be a positive integer, got 0`); `sharded` stays undefined = the transport's default. */
export function resolveSubscribeOptions<T>(options: PubSubSubscribeOptions<T> | undefined): ResolvedSubscribeOptions<T> {
  const o = parseOptions(subscribeSchema, options ?? {}, invalid)
  return {
    parse: o.parse as MessageParser<T> | undefined,
    bufferSize: o.bufferSize ?? DEFAULT_BUFFER,
    overflow: o.overflow ?? 'drop-oldest',
    sharded: o.sharded,
  }
}

/** Validates `channel()` options (`parse`, `sharded`). */
export function resolveChannelOptions<T>(options: ChannelOptions<T> | undefined): ChannelOptions<T> {
  const o = parseOptions(channelSchema, options ?? {}, invalid)
  return { parse: o.parse as MessageParser<T> | undefined, sharded: o.sharded }
}

export class TypedPubSub {
  readonly transport: PubSubTransport
  readonly prefix: string
  readonly #logger: Logger
  readonly #subscriptions = new Set<{ unsubscribe(): Promise<void> }>()
  #closed = false

  constructor(transport: PubSubTransport, options: TypedPubSubOptions = {}) {
    this.transport = transport
    const o = resolveTypedPubSubOptions(options, new.target.name)
    this.prefix = o.prefix
    this.#logger = o.logger
  }

  get kind(): 'memory' | 'redis' {
    return this.transport.kind
  }

  /** A typed handle on one channel. */
  channel<T>(name: string, options: ChannelOptions<T> = {}): Channel<T> {
    checkName(name, 'channel')
    const { parse, sharded } = resolveChannelOptions(options)
    return {
      name,
      publish: (message: T) => this.publish(name, message, { sharded }),
      subscribe: (subscribeOptions = {}) => this.subscribe<T>(name, { parse, ...subscribeOptions, sharded }),
    }
  }

  /** Publishes `message` as JSON; resolves with the receiver count the server reports. */
  async publish<T>(channel: string, message: T, options: { sharded?: boolean } = {}): Promise<number> {
    checkName(channel, 'channel')
    this.#checkOpen()
    let payload: string | undefined
    try {
      payload = JSON.stringify(message)
    } catch (error) {
      throw new InvalidArgumentError(`message on ${channel}: not JSON-serializable (${(error as Error).message})`, { cause: error })
    }
    if (payload === undefined) throw new InvalidArgumentError(`message on ${channel}: ${typeof message} is not JSON-serializable`)
    return this.transport.publish(this.prefix + channel, payload, options.sharded ?? this.transport.shardedByDefault)
  }

  /** Subscribes to one channel. */
  async subscribe<T = unknown>(channel: string, options: PubSubSubscribeOptions<T> = {}): Promise<PubSubSubscription<T>> {
    checkName(channel, 'channel')
    const resolved = resolveSubscribeOptions(options)
    const sharded = resolved.sharded ?? this.transport.shardedByDefault
    const full = this.prefix + channel
    return this.#open<T>(resolved, `channel ${channel}`, (listener) => this.transport.listen(full, listener, sharded), (listener) =>
      this.transport.unlisten(full, listener, sharded),
    )
  }

  /**
   * Subscribes to every channel matching a Redis glob pattern (`*`, `?`, `[...]`). Patterns see messages published
   * unsharded only: on a cluster, publish the channels a pattern should see with `sharded: false`.
   */
  async pSubscribe<T = unknown>(pattern: string, options: Omit<PubSubSubscribeOptions<T>, 'sharded'> = {}): Promise<PubSubSubscription<T>> {
    checkName(pattern, 'pattern')
    const resolved = resolveSubscribeOptions(options)
    const full = escapeGlob(this.prefix) + pattern
    return this.#open<T>(resolved, `pattern ${pattern}`, (listener) => this.transport.listenPattern(full, listener), (listener) =>
      this.transport.unlistenPattern(full, listener),
      pattern,
    )
  }

  /** Ends every subscription and closes the transport (the shared subscriber connection). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled([...this.#subscriptions].map((s) => s.unsubscribe()))
    await this.transport.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // ---- internals ----

  async #open<T>(
    options: ResolvedSubscribeOptions<T>,
    what: string,
    attach: (listener: RawListener) => Promise<void>,
    detach: (listener: RawListener) => Promise<void>,
    pattern?: string,
  ): Promise<PubSubSubscription<T>> {
    this.#checkOpen()
    const { bufferSize, overflow } = options
    const prefix = this.prefix
    const logger = this.#logger
    const parse = options.parse
    let invalid = 0
    let detached = false
    const subscriptions = this.#subscriptions
    const stop = async (): Promise<void> => {
      if (detached) return
      detached = true
      subscriptions.delete(handle)
      await detach(listener)
    }
    const queue = new BoundedQueue<PubSubMessage<T>>(bufferSize, overflow, () => {
      logger.warn(`pubsub ${what}: buffer of ${bufferSize} overflowed; subscription ended`)
      void stop().catch(() => {})
    })
    let lastDropReport = 0
    const listener: RawListener = (payload, fullChannel) => {
      let data: T
      try {
        const decoded: unknown = JSON.parse(payload)
        data = parse ? parse(decoded) : (decoded as T)
      } catch (error) {
        invalid++
        logger.warn({ err: error, channel: fullChannel }, `pubsub ${what}: dropped a message that is not valid JSON of the expected shape`)
        return
      }
      const channel = fullChannel.startsWith(prefix) ? fullChannel.slice(prefix.length) : fullChannel
      queue.push(pattern === undefined ? { channel, data } : { channel, data, pattern })
      if (queue.dropped > lastDropReport && queue.dropped - lastDropReport >= 100) {
        lastDropReport = queue.dropped
        logger.warn(`pubsub ${what}: ${queue.dropped} messages dropped so far (buffer of ${bufferSize} full, drop-oldest)`)
      }
    }
    const handle = {
      unsubscribe: async () => {
        queue.end()
        await stop()
      },
    }
    await attach(listener)
    subscriptions.add(handle)
    const subscription: PubSubSubscription<T> = {
      next: () => queue.next(),
      return: async () => {
        queue.clear()
        await handle.unsubscribe()
        return { value: undefined, done: true }
      },
      unsubscribe: () => handle.unsubscribe(),
      get dropped() {
        return queue.dropped
      },
      get invalid() {
        return invalid
      },
      get buffered() {
        return queue.size
      },
      [Symbol.asyncIterator]() {
        return this
      },
      async [Symbol.asyncDispose]() {
        await handle.unsubscribe()
      },
    }
    return subscription
  }

  #checkOpen(): void {
    if (this.#closed) throw new PubSubClosedError('pubsub: this PubSub is closed')
  }
}

function checkName(name: string, field: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`${field}: must be a non-empty string, got ${JSON.stringify(name)}`)
}
