// Pub/sub for the Redis backend: ONE shared subscriber connection, opened on the first subscribe, multiplexing
// any number of channels and listeners over it (Redis allows a connection to subscribe to many channels).
import type { Logger } from '../../config/logger.ts'
import type { RedisConnection, RedisSubscriber } from '../connection.ts'
import type { BackendListener } from '../backend.ts'

interface Channel {
  listeners: Set<BackendListener>
  /** Settles once the server confirmed the SUBSCRIBE. */
  subscribed: Promise<void>
}

export class SharedSubscriber {
  readonly #connection: RedisConnection
  readonly #logger: Logger
  readonly #channels = new Map<string, Channel>()
  #subscriber: Promise<RedisSubscriber> | undefined
  /** SUBSCRIBE / UNSUBSCRIBE run one at a time, so a quick unsubscribe + subscribe of a channel never races. */
  #ops: Promise<void> = Promise.resolve()
  #closed = false

  constructor(connection: RedisConnection, logger: Logger) {
    this.#connection = connection
    this.#logger = logger
  }

  /** Channels with at least one listener. */
  get channelCount(): number {
    return this.#channels.size
  }

  async subscribe(channel: string, listener: BackendListener): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error(`subscribe ${channel}: the backend is closed`)
    let entry = this.#channels.get(channel)
    if (!entry) {
      const created: Channel = { listeners: new Set(), subscribed: Promise.resolve() }
      this.#channels.set(channel, created)
      created.subscribed = this.#serial(async () => {
        const subscriber = await this.#open()
        await subscriber.subscribe(channel, (message) => this.#dispatch(channel, message))
      })
      entry = created
    }
    entry.listeners.add(listener)
    try {
      await entry.subscribed
    } catch (error) {
      entry.listeners.delete(listener)
      if (entry.listeners.size === 0 && this.#channels.get(channel) === entry) this.#channels.delete(channel)
      throw error
    }
    let done = false
    return async () => {
      if (done) return
      done = true
      const current = this.#channels.get(channel)
      if (!current?.listeners.delete(listener) || current.listeners.size > 0) return
      this.#channels.delete(channel)
      await this.#serial(async () => {
        // Someone subscribed again meanwhile: their SUBSCRIBE already ran, keep it.
        if (this.#closed || !this.#subscriber || this.#channels.has(channel)) return
        const subscriber = await this.#subscriber
        await subscriber.unsubscribe(channel)
      })
    }
  }

  /** Closes the subscriber connection, if one was opened. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#channels.clear()
    const opening = this.#subscriber
    this.#subscriber = undefined
    if (opening) await (await opening.catch(() => undefined))?.close()
  }

  #open(): Promise<RedisSubscriber> {
    if (!this.#subscriber) {
      const opening = this.#connection.subscriber()
      this.#subscriber = opening
      // A failed open is forgotten so the next subscribe tries again.
      opening.catch(() => {
        if (this.#subscriber === opening) this.#subscriber = undefined
      })
    }
    return this.#subscriber
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const run = this.#ops.then(step)
    this.#ops = run.catch(() => {})
    return run
  }

  #dispatch(channel: string, message: string): void {
    const entry = this.#channels.get(channel)
    if (!entry) return
    for (const listener of [...entry.listeners]) {
      try {
        listener(message)
      } catch (error) {
        // One faulty listener must not starve the others nor kill the subscriber connection.
        this.#logger.error({ err: error, channel }, `pub/sub listener of ${channel} threw; other listeners still run`)
      }
    }
  }
}
