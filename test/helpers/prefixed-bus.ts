// An EventBus that puts a prefix before every topic name, for code with fixed topic names (a Skald node's
// `task.assign`, …) on a shared broker: one run's topics, and so its events, never reach another run. Kafka has no
// key prefix as Redis has; the Redis Streams bus gets the same isolation from its connection's keyPrefix.
import type { BusEvent, EventBus, EventHandler, SubscribeOptions, Subscription } from '../../src/bus/types.ts'

export class TopicPrefixedBus implements EventBus {
  readonly inner: EventBus
  readonly prefix: string

  constructor(inner: EventBus, prefix: string) {
    this.inner = inner
    this.prefix = prefix
  }

  get kind(): string {
    return this.inner.kind
  }

  publish(topic: string, key: string, payload: unknown): Promise<void> {
    return this.inner.publish(this.prefix + topic, key, payload)
  }

  publishRaw(topic: string, key: string, value: string): Promise<void> {
    return this.inner.publishRaw(this.prefix + topic, key, value)
  }

  /** Handlers and the subscription see the topic as the caller named it. */
  async subscribe<T = unknown>(topic: string, group: string, handler: EventHandler<T>, options?: SubscribeOptions<T>): Promise<Subscription> {
    const inner = await this.inner.subscribe<T>(this.prefix + topic, group, (event: BusEvent<T>) => handler({ ...event, topic }), options)
    return { topic, group: inner.group, close: () => inner.close() }
  }

  ping(): Promise<void> {
    return this.inner.ping()
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
