// The Redis pub/sub transport: PUBLISH / SPUBLISH on the command connection, and ONE shared subscriber connection
// per instance multiplexing every channel and pattern. node-redis resubscribes that connection after a reconnect.
import type { Logger } from '../config/logger.ts'
import type { RedisConnection, RedisSubscriber } from './connection.ts'
import { PubSubClosedError } from './errors.ts'
import { deliver, type PubSubTransport, type RawListener } from './pubsub-transport.ts'

type Kind = 'channel' | 'sharded' | 'pattern'

interface Entry {
  listeners: Set<RawListener>
  /** The single listener registered with node-redis; fans out to `listeners`. */
  dispatch: RawListener
}

/** Raw pub/sub on Redis: the transport of RedisPubSub, and the subscriber side of RedisBackend (its L1 eviction channel). */
export class RedisTransport implements PubSubTransport {
  readonly kind = 'redis' as const
  readonly #connection: RedisConnection
  readonly #logger: Logger
  readonly #entries = new Map<string, Entry>()
  /** Subscribe/unsubscribe calls of one channel run in order, so a quick unsubscribe+subscribe cannot interleave. */
  readonly #chains = new Map<string, Promise<unknown>>()
  #subscriber: Promise<RedisSubscriber> | undefined
  #closed = false

  constructor(connection: RedisConnection, logger: Logger) {
    this.#connection = connection
    this.#logger = logger
  }

  get shardedByDefault(): boolean {
    return this.#shardedAvailable
  }

  get #shardedAvailable(): boolean {
    return this.#connection.isCluster && (this.#connection.features?.shardedPubSub ?? false)
  }

  async publish(channel: string, payload: string, sharded: boolean): Promise<number> {
    if (this.#closed) throw new PubSubClosedError('pubsub: closed')
    const reply = sharded && this.#shardedAvailable
      ? await this.#connection.send(['SPUBLISH', channel, payload], { key: channel })
      : await this.#connection.send(['PUBLISH', channel, payload])
    return Number(reply)
  }

  listen(channel: string, listener: RawListener, sharded: boolean): Promise<void> {
    return this.#add(sharded && this.#shardedAvailable ? 'sharded' : 'channel', channel, listener)
  }

  unlisten(channel: string, listener: RawListener, sharded: boolean): Promise<void> {
    return this.#remove(sharded && this.#shardedAvailable ? 'sharded' : 'channel', channel, listener)
  }

  listenPattern(pattern: string, listener: RawListener): Promise<void> {
    return this.#add('pattern', pattern, listener)
  }

  unlistenPattern(pattern: string, listener: RawListener): Promise<void> {
    return this.#remove('pattern', pattern, listener)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled(this.#chains.values())
    this.#entries.clear()
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    if (subscriber) await subscriber.then((s) => s.close(), () => {})
  }

  // ---- internals ----

  #add(kind: Kind, name: string, listener: RawListener): Promise<void> {
    return this.#serial(`${kind}\0${name}`, async (id) => {
      if (this.#closed) throw new PubSubClosedError('pubsub: closed')
      const existing = this.#entries.get(id)
      if (existing) {
        existing.listeners.add(listener)
        return
      }
      const listeners = new Set([listener])
      const dispatch: RawListener = (payload, channel) => deliver(listeners, payload, channel, this.#logger)
      const subscriber = await this.#getSubscriber()
      if (kind === 'pattern') await subscriber.pSubscribe(name, dispatch)
      else if (kind === 'sharded') await subscriber.sSubscribe(name, dispatch)
      else await subscriber.subscribe(name, dispatch)
      this.#entries.set(id, { listeners, dispatch })
    })
  }

  #remove(kind: Kind, name: string, listener: RawListener): Promise<void> {
    return this.#serial(`${kind}\0${name}`, async (id) => {
      const entry = this.#entries.get(id)
      if (!entry) return
      entry.listeners.delete(listener)
      if (entry.listeners.size > 0) return
      this.#entries.delete(id)
      if (this.#closed || !this.#subscriber) return
      const subscriber = await this.#subscriber
      if (kind === 'pattern') await subscriber.pUnsubscribe(name, entry.dispatch)
      else if (kind === 'sharded') await subscriber.sUnsubscribe(name, entry.dispatch)
      else await subscriber.unsubscribe(name, entry.dispatch)
    })
  }

  #serial(id: string, task: (id: string) => Promise<void>): Promise<void> {
    const previous = this.#chains.get(id) ?? Promise.resolve()
    const next = previous.then(() => task(id), () => task(id))
    const settled = next.catch(() => {})
    this.#chains.set(id, settled)
    void settled.then(() => {
      if (this.#chains.get(id) === settled) this.#chains.delete(id)
    })
    return next
  }

  #getSubscriber(): Promise<RedisSubscriber> {
    if (!this.#subscriber) {
      const opening = this.#connection.subscriber()
      // A failed open is not cached: the next subscribe tries again.
      opening.catch(() => {
        if (this.#subscriber === opening) this.#subscriber = undefined
      })
      this.#subscriber = opening
    }
    return this.#subscriber
  }
}
