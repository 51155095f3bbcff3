// The in-process Event Queue: the embedded default. Same semantics as the server engines (groups, per-key order,
// retries, dead letters), held in memory, so it is lost when the process exits.
import { createLogger, type Logger } from '../config/logger.ts'
import { integer, nonEmptyString, opaque, optionsObject, parseOptions } from '../config/options.ts'
import {
  busArgument,
  checkName,
  checkPublish,
  checkSubscribe,
  DEFAULT_DEAD_LETTER_SUFFIX,
  deliver,
  type RawDelivery,
  type ResolvedSubscribeOptions,
  serializePayload,
  settlesWithin,
} from './delivery.ts'
import { BusClosedError, BusPublishError } from './errors.ts'
import type { EventBus, EventHandler, SubscribeOptions, Subscription } from './types.ts'

export interface MemoryBusOptions {
  /** Most events a group may hold undelivered or unacknowledged; `publish` rejects beyond it (backpressure
   *  instead of dropping). Default 100000 events. */
  maxPendingPerGroup?: number
  /** Suffix of dead-letter topics. Default `.dlq`. */
  deadLetterSuffix?: string
  /** Default: `createLogger('skalds:bus')`. */
  logger?: Logger
}

const memoryBusSchema = optionsObject({
  maxPendingPerGroup: integer(1).default(100_000),
  deadLetterSuffix: nonEmptyString().default(DEFAULT_DEAD_LETTER_SUFFIX),
  logger: opaque<Logger>().optional(),
})

/** Validates MemoryBus options and fills the defaults; bad input is a BusArgumentError naming the field. */
export function resolveMemoryBusOptions(options: MemoryBusOptions = {}): { maxPendingPerGroup: number; deadLetterSuffix: string } {
  const o = parseOptions(memoryBusSchema, options, busArgument, 'MemoryBus')
  return { maxPendingPerGroup: o.maxPendingPerGroup, deadLetterSuffix: o.deadLetterSuffix }
}

interface Entry {
  key: string
  value: string
  id: string
  timestamp: number
  /** Deliveries already made (0 until first handed out). */
  deliveries: number
}

/** A FIFO of keys that also takes a key back at its head (a requeued key goes first). */
class KeyFifo {
  #items: string[] = []
  #head = 0
  get size(): number {
    return this.#items.length - this.#head
  }
  push(key: string): void {
    this.#items.push(key)
  }
  pushFront(key: string): void {
    if (this.#head > 0) this.#items[--this.#head] = key
    else this.#items.unshift(key)
  }
  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined
    const key = this.#items[this.#head++]
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return key
  }
}

/** One consumer group of one topic: a queue per key, so a key is never in flight twice. */
class MemoryGroup {
  readonly name: string
  readonly keyQueues = new Map<string, Entry[]>()
  readonly ready = new KeyFifo()
  readonly inFlight = new Set<string>()
  readonly members: MemorySubscription[] = []
  pending = 0
  #next = 0

  constructor(name: string) {
    this.name = name
  }

  enqueue(entry: Entry): void {
    let queue = this.keyQueues.get(entry.key)
    if (!queue) {
      queue = []
      this.keyQueues.set(entry.key, queue)
    }
    queue.push(entry)
    this.pending++
    if (queue.length === 1 && !this.inFlight.has(entry.key)) this.ready.push(entry.key)
  }

  /** Puts an unacknowledged entry back at the head of its key (it keeps its place in the key's order). */
  requeue(entry: Entry): void {
    let queue = this.keyQueues.get(entry.key)
    if (!queue) {
      queue = []
      this.keyQueues.set(entry.key, queue)
    }
    queue.unshift(entry)
    this.inFlight.delete(entry.key)
    this.ready.pushFront(entry.key)
  }

  /** The entry is done (acknowledged): frees its key. */
  settle(entry: Entry): void {
    this.pending--
    this.inFlight.delete(entry.key)
    const queue = this.keyQueues.get(entry.key)
    if (queue && queue.length > 0) this.ready.push(entry.key)
    else this.keyQueues.delete(entry.key)
  }

  /** Hands ready keys' head entries to idle members, round robin. */
  dispatch(): void {
    while (this.ready.size > 0) {
      const member = this.#idleMember()
      if (!member) return
      const key = this.ready.shift()!
      const queue = this.keyQueues.get(key)
      const entry = queue?.shift()
      if (!entry) continue
      this.inFlight.add(key)
      entry.deliveries++
      member.run(entry)
    }
  }

  #idleMember(): MemorySubscription | undefined {
    const n = this.members.length
    for (let i = 0; i < n; i++) {
      const member = this.members[(this.#next + i) % n]!
      if (member.idle) {
        this.#next = (this.#next + i + 1) % n
        return member
      }
    }
    return undefined
  }
}

/** @internal what MemoryBus.subscribe returns, seen by users as a Subscription. */
class MemorySubscription implements Subscription {
  readonly topic: string
  readonly group: string
  idle = true
  #owner: MemoryGroup
  #bus: MemoryBus
  #handler: EventHandler<unknown>
  #options: ResolvedSubscribeOptions<unknown>
  #abort = new AbortController()
  #current: { entry: Entry; done: Promise<void>; abandoned: boolean } | undefined
  #closing: Promise<void> | undefined

  constructor(bus: MemoryBus, topic: string, owner: MemoryGroup, handler: EventHandler<unknown>, options: ResolvedSubscribeOptions<unknown>) {
    this.#bus = bus
    this.topic = topic
    this.group = owner.name
    this.#owner = owner
    this.#handler = handler
    this.#options = options
  }

  run(entry: Entry): void {
    this.idle = false
    const raw: RawDelivery = { key: entry.key, value: entry.value, id: entry.id, timestamp: entry.timestamp, attempt: entry.deliveries }
    const current = { entry, abandoned: false, done: Promise.resolve() }
    this.#current = current
    current.done = (async () => {
      // Start on a fresh tick: a handler that publishes must not re-enter dispatch synchronously.
      await new Promise<void>((resolve) => setImmediate(resolve))
      const outcome = await deliver(
        {
          topic: this.topic,
          group: this.group,
          handler: this.#handler,
          options: this.#options,
          logger: this.#bus.logger,
          deadLetter: (record) => this.#bus.publishRaw(this.#bus.deadLetterTopic(this.topic), record.key, JSON.stringify(record)),
          signal: this.#abort.signal,
        },
        raw,
      )
      if (current.abandoned) return
      if (outcome === 'abandoned') this.#owner.requeue(entry)
      else this.#owner.settle(entry)
      this.#current = undefined
      if (!this.#closing) this.idle = true
      this.#owner.dispatch()
    })()
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.idle = false
      const index = this.#owner.members.indexOf(this)
      if (index >= 0) this.#owner.members.splice(index, 1)
      this.#abort.abort()
      const current = this.#current
      if (current && !(await settlesWithin(current.done, this.#options.closeTimeoutMs))) {
        // Gone without acknowledging: the event goes back to the group, first in its key.
        current.abandoned = true
        current.entry.deliveries = Math.max(current.entry.deliveries, 1)
        this.#owner.requeue(current.entry)
        this.#owner.dispatch()
      }
      this.#bus.forget(this)
    })()
    return this.#closing
  }
}

/** The in-process engine. Groups live as long as the bus and keep their undelivered events while memberless. */
export class MemoryBus implements EventBus {
  readonly kind = 'memory'
  readonly logger: Logger
  readonly #maxPending: number
  readonly #deadLetterSuffix: string
  readonly #topics = new Map<string, Map<string, MemoryGroup>>()
  readonly #subscriptions = new Set<MemorySubscription>()
  #sequence = 0
  #closed = false

  constructor(options: MemoryBusOptions = {}) {
    const resolved = resolveMemoryBusOptions(options)
    this.#maxPending = resolved.maxPendingPerGroup
    this.#deadLetterSuffix = resolved.deadLetterSuffix
    this.logger = options.logger ?? createLogger('skalds:bus')
  }

  deadLetterTopic(topic: string): string {
    return topic + this.#deadLetterSuffix
  }

  publish(topic: string, key: string, payload: unknown): Promise<void> {
    try {
      checkName('topic', topic)
      return this.publishRaw(topic, key, serializePayload(topic, payload))
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  publishRaw(topic: string, key: string, value: string): Promise<void> {
    try {
      checkPublish(this.#closed, topic, key, value)
      const groups = this.#topics.get(topic)
      if (!groups) return Promise.resolve()
      for (const group of groups.values()) {
        if (group.pending >= this.#maxPending) {
          throw new BusPublishError(`publish ${topic}: group ${group.name} already holds ${group.pending} unacknowledged events (maxPendingPerGroup)`)
        }
      }
      const id = `0-${++this.#sequence}`
      const timestamp = Date.now()
      for (const group of groups.values()) {
        group.enqueue({ key, value, id, timestamp, deliveries: 0 })
        group.dispatch()
      }
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  subscribe<T = unknown>(topic: string, group: string, handler: EventHandler<T>, options?: SubscribeOptions<T>): Promise<Subscription> {
    try {
      if (this.#closed) throw new BusClosedError(`subscribe ${topic}: the bus is closed`)
      // The same checks as the other engines (this one threw TypeError for a missing handler).
      const resolved = checkSubscribe(topic, group, handler, options)
      let groups = this.#topics.get(topic)
      if (!groups) {
        groups = new Map()
        this.#topics.set(topic, groups)
      }
      let owner = groups.get(group)
      if (!owner) {
        owner = new MemoryGroup(group)
        groups.set(group, owner)
      }
      const subscription = new MemorySubscription(this, topic, owner, handler as EventHandler<unknown>, resolved)
      owner.members.push(subscription)
      this.#subscriptions.add(subscription)
      owner.dispatch()
      return Promise.resolve(subscription)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** @internal called by a closed subscription. */
  forget(subscription: MemorySubscription): void {
    this.#subscriptions.delete(subscription)
  }

  ping(): Promise<void> {
    return this.#closed ? Promise.reject(new BusClosedError('ping: the bus is closed')) : Promise.resolve()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#subscriptions].map((s) => s.close()))
  }
}
