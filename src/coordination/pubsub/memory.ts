// The in-process pub/sub transport: the embedded default. Delivery is asynchronous (a later tick), as on a network.
import { z } from 'zod'
import { createLogger, type Logger } from '../../config/logger.ts'
import { opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { globToRegExp } from '../../redis/glob.ts'
import { type TypedPubSubOptions, TypedPubSub, typedPubSubOptionsShape } from './pubsub.ts'
import { deliver, type PubSubTransport, type RawListener } from '../../redis/pubsub-transport.ts'

const invalid = (message: string) => new InvalidArgumentError(message)

const busSchema = optionsObject({ logger: opaque<Logger>().optional() })

/** A bus shared by every MemoryPubSub created on it (one per process by default), like one Redis server. */
export class MemoryPubSubBus {
  readonly #logger: Logger
  readonly #channels = new Map<string, Set<RawListener>>()
  readonly #patterns = new Map<string, { regexp: RegExp; listeners: Set<RawListener> }>()

  /** `logger`: where a throwing listener is reported (it never stops the others). Default: the library logger. */
  constructor(options: { logger?: Logger } = {}) {
    this.#logger = parseOptions(busSchema, options ?? {}, invalid, 'MemoryPubSubBus').logger ?? createLogger('skalds:pubsub')
  }

  /** Publishes to exact and pattern listeners; returns how many listeners it reaches. */
  publish(channel: string, payload: string): number {
    const targets: RawListener[] = [...(this.#channels.get(channel) ?? [])]
    for (const { regexp, listeners } of this.#patterns.values()) if (regexp.test(channel)) targets.push(...listeners)
    if (targets.length > 0) setImmediate(() => deliver(targets, payload, channel, this.#logger))
    return targets.length
  }

  add(channel: string, listener: RawListener): void {
    let set = this.#channels.get(channel)
    if (!set) this.#channels.set(channel, (set = new Set()))
    set.add(listener)
  }

  remove(channel: string, listener: RawListener): void {
    const set = this.#channels.get(channel)
    set?.delete(listener)
    if (set?.size === 0) this.#channels.delete(channel)
  }

  addPattern(pattern: string, listener: RawListener): void {
    let entry = this.#patterns.get(pattern)
    if (!entry) this.#patterns.set(pattern, (entry = { regexp: globToRegExp(pattern), listeners: new Set() }))
    entry.listeners.add(listener)
  }

  removePattern(pattern: string, listener: RawListener): void {
    const entry = this.#patterns.get(pattern)
    entry?.listeners.delete(listener)
    if (entry?.listeners.size === 0) this.#patterns.delete(pattern)
  }
}

const processBus = new MemoryPubSubBus()

class MemoryTransport implements PubSubTransport {
  readonly kind = 'memory' as const
  readonly shardedByDefault = false
  readonly #bus: MemoryPubSubBus
  readonly #mine = new Set<{ channel?: string; pattern?: string; listener: RawListener }>()

  constructor(bus: MemoryPubSubBus) {
    this.#bus = bus
  }

  publish(channel: string, payload: string): Promise<number> {
    return Promise.resolve(this.#bus.publish(channel, payload))
  }

  listen(channel: string, listener: RawListener): Promise<void> {
    this.#bus.add(channel, listener)
    this.#mine.add({ channel, listener })
    return Promise.resolve()
  }

  unlisten(channel: string, listener: RawListener): Promise<void> {
    this.#bus.remove(channel, listener)
    for (const entry of this.#mine) if (entry.channel === channel && entry.listener === listener) this.#mine.delete(entry)
    return Promise.resolve()
  }

  listenPattern(pattern: string, listener: RawListener): Promise<void> {
    this.#bus.addPattern(pattern, listener)
    this.#mine.add({ pattern, listener })
    return Promise.resolve()
  }

  unlistenPattern(pattern: string, listener: RawListener): Promise<void> {
    this.#bus.removePattern(pattern, listener)
    for (const entry of this.#mine) if (entry.pattern === pattern && entry.listener === listener) this.#mine.delete(entry)
    return Promise.resolve()
  }

  close(): Promise<void> {
    for (const { channel, pattern, listener } of this.#mine) {
      if (channel !== undefined) this.#bus.remove(channel, listener)
      if (pattern !== undefined) this.#bus.removePattern(pattern, listener)
    }
    this.#mine.clear()
    return Promise.resolve()
  }
}

export interface MemoryPubSubOptions extends TypedPubSubOptions {
  /** The bus to publish on. Default: one bus per process, shared by every MemoryPubSub. */
  bus?: MemoryPubSubBus
}

const memorySchema = optionsObject({
  ...typedPubSubOptionsShape,
  bus: z.custom<MemoryPubSubBus>((value) => value instanceof MemoryPubSubBus, { error: 'must be a MemoryPubSubBus' }).optional(),
})

/** Validates MemoryPubSub options; bad input throws InvalidArgumentError (`MemoryPubSub: field: reason`). */
export function resolveMemoryPubSubOptions(options: MemoryPubSubOptions | undefined): { bus: MemoryPubSubBus; prefix: string; logger: Logger } {
  const o = parseOptions(memorySchema, options ?? {}, invalid, 'MemoryPubSub')
  return { bus: o.bus ?? processBus, prefix: o.prefix ?? '', logger: o.logger ?? createLogger('skalds:pubsub') }
}

/** Typed pub/sub inside one process. */
export class MemoryPubSub extends TypedPubSub {
  constructor(options: MemoryPubSubOptions = {}) {
    const o = resolveMemoryPubSubOptions(options)
    super(new MemoryTransport(o.bus), { prefix: o.prefix, logger: o.logger })
  }
}
