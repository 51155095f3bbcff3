// An EventBus wrapper that misbehaves on demand (fails, stalls, loses events), for tests of what a node or a
// controller does when Redis or Kafka fails. Exported so applications can test their own handlers the same way.
import { checkName, checkPublish, serializePayload } from './delivery.ts'
import { BusArgumentError, BusPublishError, BusSubscribeError } from './errors.ts'
import type { BusEvent, EventBus, EventHandler, SubscribeOptions, Subscription } from './types.ts'

/** What a fault applies to: `publish` (and publishRaw), `subscribe`, or `deliver` (the handler of an event). */
export type BusOperation = 'publish' | 'subscribe' | 'deliver'
export const BUS_OPERATIONS: readonly BusOperation[] = ['publish', 'subscribe', 'deliver']

type Fault = { kind: 'throw'; error: (operation: BusOperation) => Error } | { kind: 'stall'; ms: number } | { kind: 'drop' }

/**
 * Wraps a bus. Healthy, it passes everything through. On the operations given (default: all):
 * - `alwaysThrow(error?)`: publish rejects (default BusPublishError, an outage), subscribe rejects (default
 *   BusSubscribeError), and a delivery fails before the handler runs, so the engine retries it and then dead-letters
 *   it as a handler failure;
 * - `alwaysStall(ms?)`: the call, or the handler, waits `ms` (default: until `heal()`) and then runs; a stalled
 *   delivery holds its event unacknowledged, and its key's next events behind it;
 * - `alwaysDrop()`: publish resolves without sending (the engine lost the event), and a delivery is acknowledged
 *   without the handler (the group lost it). Subscribe cannot drop.
 * `heal()` restores normal behaviour and releases what is stalled. `calls` and `deliveries` count what reached the
 * wrapper, whatever the mode.
 */
export class ChaosBus implements EventBus {
  readonly inner: EventBus
  readonly #faults = new Map<BusOperation, Fault>()
  readonly #stalled = new Map<BusOperation, Set<() => void>>()
  #calls = 0
  #deliveries = 0

  constructor(inner: EventBus) {
    this.inner = inner
  }

  get kind(): string {
    return this.inner.kind
  }

  /** publish, publishRaw and subscribe calls that reached this wrapper. */
  get calls(): number {
    return this.#calls
  }

  /** Deliveries that reached this wrapper's handlers, retries included. */
  get deliveries(): number {
    return this.#deliveries
  }

  /** The operations fail (see the class). `error` replaces the default error of every one of them. */
  alwaysThrow(error?: Error | (() => Error), on: readonly BusOperation[] = BUS_OPERATIONS): this {
    const make = typeof error === 'function' ? error : error ? () => error : defaultError
    return this.#set(on, { kind: 'throw', error: make })
  }

  /** The operations wait `ms` milliseconds before running (default: until `heal()`). */
  alwaysStall(ms = Number.POSITIVE_INFINITY, on: readonly BusOperation[] = BUS_OPERATIONS): this {
    if (Number.isNaN(ms) || ms < 0) throw new BusArgumentError(`ChaosBus.alwaysStall: ms must be >= 0, got ${ms}`)
    return this.#set(on, { kind: 'stall', ms })
  }

  /** Published events and deliveries are lost (see the class). */
  alwaysDrop(on: readonly BusOperation[] = ['publish', 'deliver']): this {
    if (on.includes('subscribe')) throw new BusArgumentError('ChaosBus.alwaysDrop: subscribe cannot drop; use alwaysThrow or alwaysStall')
    return this.#set(on, { kind: 'drop' })
  }

  /** Back to normal on the operations (default: all); calls and deliveries stalled so far run now. */
  heal(on: readonly BusOperation[] = BUS_OPERATIONS): this {
    for (const operation of on) {
      this.#faults.delete(operation)
      for (const release of [...(this.#stalled.get(operation) ?? [])]) release()
    }
    return this
  }

  async publish(topic: string, key: string, payload: unknown): Promise<void> {
    this.#calls++
    if (await this.#fault('publish')) {
      // A lost event was still a valid one: argument errors surface as the engine would report them.
      checkName('topic', topic)
      checkPublish(false, topic, key, serializePayload(topic, payload))
      return
    }
    return this.inner.publish(topic, key, payload)
  }

  async publishRaw(topic: string, key: string, value: string): Promise<void> {
    this.#calls++
    if (await this.#fault('publish')) return checkPublish(false, topic, key, value)
    return this.inner.publishRaw(topic, key, value)
  }

  async subscribe<T = unknown>(topic: string, group: string, handler: EventHandler<T>, options?: SubscribeOptions<T>): Promise<Subscription> {
    this.#calls++
    await this.#fault('subscribe')
    // A handler that is not a function reaches the engine as it is, which rejects it.
    if (typeof handler !== 'function') return this.inner.subscribe(topic, group, handler, options)
    const wrapped = async (event: BusEvent<T>): Promise<void> => {
      this.#deliveries++
      if (await this.#fault('deliver')) return
      await handler(event)
    }
    return this.inner.subscribe(topic, group, wrapped, options)
  }

  /** Closes the wrapped bus; always passes through (chaos never blocks a shutdown). */
  /** Faults configured for `publish` apply to ping too (an unreachable engine fails both). */
  async ping(): Promise<void> {
    if (await this.#fault('publish')) return
    await this.inner.ping()
  }

  close(): Promise<void> {
    this.heal()
    return this.inner.close()
  }

  #set(on: readonly BusOperation[], fault: Fault): this {
    for (const operation of on) {
      if (!BUS_OPERATIONS.includes(operation)) throw new BusArgumentError(`ChaosBus: unknown operation ${JSON.stringify(operation)}`)
      this.#faults.set(operation, fault)
    }
    return this
  }

  /** Applies the operation's fault: throws, waits, or answers true when the operation is to be dropped. */
  async #fault(operation: BusOperation): Promise<boolean> {
    const fault = this.#faults.get(operation)
    if (!fault) return false
    if (fault.kind === 'throw') throw fault.error(operation)
    if (fault.kind === 'drop') return true
    await this.#stall(operation, fault.ms)
    return false
  }

  #stall(operation: BusOperation, ms: number): Promise<void> {
    let stalled = this.#stalled.get(operation)
    if (!stalled) this.#stalled.set(operation, (stalled = new Set()))
    const waiting = stalled
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const release = (): void => {
        clearTimeout(timer)
        waiting.delete(release)
        resolve()
      }
      waiting.add(release)
      if (Number.isFinite(ms)) timer = setTimeout(release, ms)
    })
  }
}

function defaultError(operation: BusOperation): Error {
  if (operation === 'publish') return new BusPublishError('chaos: the bus is down')
  if (operation === 'subscribe') return new BusSubscribeError('chaos: the bus is down')
  return new Error('chaos: the delivery failed')
}
