// The Event Queue contract: every EventBus implementation runs these tests (memory, Redis Streams, Kafka).
// Each test uses its own topics and groups, so files can run side by side against shared servers.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { z } from 'zod'
import { BusArgumentError } from '../../src/bus/errors.ts'
import type { BusEvent, DeadLetter, EventBus, SubscribeOptions, Subscription } from '../../src/bus/types.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

export interface BusContractTarget {
  name: string
  /** A new, independent bus (its own connections), as another process would have. */
  create(): Promise<EventBus>
  /** Merged into every subscription's options (e.g. `startFrom: 'earliest'` for Kafka's fresh groups). */
  subscribeDefaults?: SubscribeOptions<unknown>
  /** Whether the engine counts deliveries across a member's death (BusEvent.attempt > 1 after a takeover). */
  countsRedeliveries: boolean
  /**
   * Whether `members` subscriptions of `group` on `topic` have finished sharing the topic out (leases moved, the
   * rebalance done), so that events published now stay where they land. Polled before a test publishes to a group
   * that several members joined. Default: always (an engine that shares out synchronously).
   */
  settled?(topic: string, group: string, members: number): Promise<boolean>
  /**
   * Whether a rebalance may hand an event that a member already handled to another member (Kafka: the old owner
   * finishes an event whose commit the new owner does not see yet; docs/bus.md). Delivery is then at least once:
   * the tests count each event id once and assert every event arrived, in key order. Otherwise they also assert that
   * no event was handled twice.
   */
  redeliversOnRebalance: boolean
  /** Deadline of every wait, in ms. Default 30000. */
  deadlineMs?: number
}

/** What a test saw of one delivery. */
interface Seen<T> {
  id: string
  value: T
}

export function uniqueTopic(label: string): string {
  return `bus-test.${label}.${randomUUID().slice(0, 8)}`
}

export function busContract(target: BusContractTarget): void {
  const deadline = target.deadlineMs ?? 30_000
  /** The first delivery of each event (by id), in order; asserts there was no other unless the engine may redeliver. */
  const distinct = <T>(seen: ReadonlyArray<Seen<T>>, what: string): T[] => {
    const first = new Map<string, T>()
    for (const { id, value } of seen) if (!first.has(id)) first.set(id, value)
    if (!target.redeliversOnRebalance) assert.equal(seen.length, first.size, `${what}: an event was handled twice`)
    return [...first.values()]
  }
  const ids = (seen: ReadonlyArray<Seen<unknown>>): number => new Set(seen.map((s) => s.id)).size
  const settle = async (topic: string, group: string, members: number): Promise<void> => {
    if (target.settled) await waitFor(() => target.settled!(topic, group, members), `${members} member(s) of ${group} to share ${topic} out`, deadline, 100)
  }
  const suffixed = (group: string, topic: string): string => `${group}.${topic.split('.').pop()!}`
  const buses: EventBus[] = []
  const newBus = async (): Promise<EventBus> => {
    const bus = await target.create()
    buses.push(bus)
    return bus
  }
  // Group names get the topic's suffix: on Kafka a group id spans topics, and tests must not rebalance each other.
  const subscribe = <T>(bus: EventBus, topic: string, group: string, handler: (event: BusEvent<T>) => void | Promise<void>, options?: SubscribeOptions<T>): Promise<Subscription> =>
    bus.subscribe<T>(topic, suffixed(group, topic), handler, { ...(target.subscribeDefaults as SubscribeOptions<T>), ...options })

  void describe(`EventBus contract: ${target.name}`, () => {
    after(async () => {
      await Promise.all(buses.map((bus) => bus.close()))
    })

    void it('delivers a published event with its topic, key, payload, id and first attempt', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('basic')
      const seen: BusEvent[] = []
      await subscribe(bus, topic, 'g', (event) => {
        seen.push(event)
      })
      const before = Date.now()
      await bus.publish(topic, 'task-1', { taskIds: ['task-1'], n: 1 })
      await waitFor(() => seen.length === 1, 'the event', deadline)
      const event = seen[0]!
      assert.equal(event.topic, topic)
      assert.equal(event.key, 'task-1')
      assert.deepEqual(event.payload, { taskIds: ['task-1'], n: 1 })
      assert.equal(event.attempt, 1)
      assert.equal(typeof event.id, 'string')
      assert.ok(event.id.length > 0)
      assert.ok(Math.abs(event.timestamp - before) < 60_000, `timestamp ${event.timestamp} near ${before}`)
    })

    // (a closed bus rejects ping with BusClosedError: not checked here, some targets share one engine across tests)
    void it('answers ping while open (the health check)', async () => {
      const bus = await newBus()
      await bus.ping()
    })

    void it('rejects an empty key, an empty topic and a payload JSON cannot carry', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('args')
      await assert.rejects(bus.publish(topic, '', {}), BusArgumentError)
      await assert.rejects(bus.publish('', 'k', {}), BusArgumentError)
      await assert.rejects(bus.publish(topic, 'k', undefined), BusArgumentError)
      await assert.rejects(bus.publish(topic, 'k', { big: 1n }), BusArgumentError)
      await assert.rejects(bus.subscribe(topic, '', () => {}), BusArgumentError)
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { maxDeliveries: 0 }), BusArgumentError)
    })

    void it('rejects bad subscribe arguments with BusArgumentError naming the field, in every engine', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('subscribe-args')
      const named = (pattern: RegExp) => (e: unknown) => e instanceof BusArgumentError && e.code === 'E_BUS_ARGUMENT' && pattern.test(e.message)
      await assert.rejects(bus.subscribe(topic, 'g', undefined as never), named(/handler must be a function/))
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { maxDeliveries: 1.5 }), named(/maxDeliveries: must be a positive integer, got 1.5/))
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { retryDelay: -1 }), /retryDelay: /)
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { closeTimeout: 1.5 }), named(/closeTimeout: must be a whole number of ms, got 1.5/))
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { startFrom: 'middle' as never }), named(/startFrom: must be one of 'latest', 'earliest'/))
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { schema: {} as never }), named(/schema: must be a Standard Schema v1 object/))
      await assert.rejects(bus.subscribe(topic, 'g', () => {}, { retryDelay: '1s', retryDelayMs: 5 }), named(/retryDelay: also given as retryDelayMs/))
    })

    void it('broadcasts: every group gets every event', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('broadcast')
      const groups = { a: [] as Array<Seen<number>>, b: [] as Array<Seen<number>> }
      await subscribe<number>(bus, topic, 'node-a', (e) => void groups.a.push({ id: e.id, value: e.payload }))
      await subscribe<number>(bus, topic, 'node-b', (e) => void groups.b.push({ id: e.id, value: e.payload }))
      for (let i = 0; i < 20; i++) await bus.publish(topic, `k${i % 4}`, i)
      await waitFor(() => ids(groups.a) >= 20 && ids(groups.b) >= 20, '20 events in both groups', deadline)
      assert.deepEqual(distinct(groups.a, 'group a').sort((x, y) => x - y), [...Array(20).keys()])
      assert.deepEqual(distinct(groups.b, 'group b').sort((x, y) => x - y), [...Array(20).keys()])
    })

    void it('one group subscribed to several topics (a Skald node) gets each topic\'s events on its own subscription', async () => {
      const bus = await newBus()
      const assign = uniqueTopic('node-assign')
      const cancel = uniqueTopic('node-cancel')
      const group = `skalds-node-${assign.split('.').pop()!}`
      const got = { assign: [] as Array<Seen<string>>, cancel: [] as Array<Seen<string>> }
      // Raw bus.subscribe: both subscriptions must share one group name.
      await bus.subscribe<string>(assign, group, (e) => void got.assign.push({ id: e.id, value: e.payload }), target.subscribeDefaults as SubscribeOptions<string>)
      await bus.subscribe<string>(cancel, group, (e) => void got.cancel.push({ id: e.id, value: e.payload }), target.subscribeDefaults as SubscribeOptions<string>)
      await settle(assign, group, 1)
      await settle(cancel, group, 1)
      for (let i = 0; i < 6; i++) {
        await bus.publish(assign, `t${i}`, `a${i}`)
        await bus.publish(cancel, `t${i}`, `c${i}`)
      }
      await waitFor(() => ids(got.assign) >= 6 && ids(got.cancel) >= 6, '6 events per topic', deadline)
      assert.deepEqual(distinct(got.assign, 'assign').sort(), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'])
      assert.deepEqual(distinct(got.cancel, 'cancel').sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'])
    })

    void it('competing consumers: one group spreads events over its members, each event handled once', async () => {
      const topic = uniqueTopic('competing')
      const handledBy = new Map<number, Array<{ member: string; id: string }>>()
      const members = ['m1', 'm2', 'm3']
      for (const member of members) {
        const bus = await newBus()
        await subscribe<number>(bus, topic, 'workers', (e) => {
          handledBy.set(e.payload, [...(handledBy.get(e.payload) ?? []), { member, id: e.id }])
        })
      }
      await settle(topic, suffixed('workers', topic), members.length)
      const publisher = await newBus()
      const total = 60
      for (let i = 0; i < total; i++) await publisher.publish(topic, `key-${i % 12}`, i)
      await waitFor(() => handledBy.size === total, `${total} events handled`, deadline)
      await sleep(300) // a second handling, were there one, shows up by now
      for (const [n, who] of handledBy) {
        const by = who.map((w) => w.member).join(', ')
        if (target.redeliversOnRebalance) assert.equal(new Set(who.map((w) => w.id)).size, 1, `event ${n}: its handlings (by ${by}) are one event redelivered`)
        else assert.equal(who.length, 1, `event ${n} handled by ${by}`)
      }
      const used = new Set([...handledBy.values()].flatMap((who) => who.map((w) => w.member)))
      assert.ok(used.size >= 2, `work spread over ${[...used].join(', ')}`)
    })

    void it('keeps per-key order within a group across competing members', async () => {
      const topic = uniqueTopic('order')
      const perKey = new Map<string, Array<Seen<number>>>()
      const handler = async (e: BusEvent<{ seq: number }>): Promise<void> => {
        // Even events are slow: were a key's next event handled concurrently, it would finish first.
        await sleep(e.payload.seq % 2 === 0 ? 5 : 0)
        perKey.set(e.key, [...(perKey.get(e.key) ?? []), { id: e.id, value: e.payload.seq }])
      }
      await subscribe(await newBus(), topic, 'ordered', handler)
      await subscribe(await newBus(), topic, 'ordered', handler)
      await settle(topic, suffixed('ordered', topic), 2)
      const publisher = await newBus()
      const keys = ['a', 'b', 'c', 'd', 'e']
      const perKeyCount = 30
      // A key's events back to back: an engine that let two members take one key's events at once would show it.
      for (const key of keys) {
        for (let seq = 0; seq < perKeyCount; seq++) await publisher.publish(topic, key, { seq })
      }
      const total = keys.length * perKeyCount
      await waitFor(() => [...perKey.values()].reduce((n, l) => n + ids(l), 0) >= total, `${total} ordered events`, deadline)
      // Redelivered, a key's events come again from its last commit on: their first handlings keep publish order.
      for (const key of keys) assert.deepEqual(distinct(perKey.get(key) ?? [], `key ${key}`), [...Array(perKeyCount).keys()], `order of key ${key}`)
    })

    void it('redelivers an event whose handler throws, before the next event of its key', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('retry')
      const log: string[] = []
      await subscribe<{ n: number }>(
        bus,
        topic,
        'g',
        (e) => {
          log.push(`${e.payload.n}@${e.attempt}`)
          if (e.payload.n === 0 && e.attempt < 3) throw new Error(`transient failure ${e.attempt}`)
        },
        { retryDelayMs: 50, maxDeliveries: 5 },
      )
      await bus.publish(topic, 'same', { n: 0 })
      await bus.publish(topic, 'same', { n: 1 })
      await waitFor(() => log.includes('1@1'), 'both events', deadline)
      assert.deepEqual(log, ['0@1', '0@2', '0@3', '1@1'])
    })

    void it('dead-letters bad JSON, schema failures and exhausted retries, and keeps consuming', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('dlq')
      const handled: Array<Seen<number>> = []
      const dead: DeadLetter[] = []
      await subscribe<DeadLetter>(bus, `${topic}.dlq`, 'dlq-reader', (e) => void dead.push(e.payload))
      await subscribe(
        bus,
        topic,
        'g',
        (e) => {
          if (e.payload.n === 2) throw new Error('poison')
          handled.push({ id: e.id, value: e.payload.n })
        },
        { schema: z.object({ n: z.number() }), retryDelayMs: 20, maxDeliveries: 2 },
      )
      await bus.publishRaw(topic, 'k', '{not json')
      await bus.publish(topic, 'k', { n: 'one' })
      await bus.publish(topic, 'k', { n: 1 })
      await bus.publish(topic, 'k', { n: 2 })
      await bus.publish(topic, 'k', { n: 3 })
      await waitFor(() => ids(handled) >= 2, 'events 1 and 3', deadline)
      await waitFor(() => dead.length >= 3, '3 dead letters', deadline)
      assert.deepEqual(distinct(handled, 'handled'), [1, 3])
      const byReason = new Map(dead.map((d) => [d.reason, d]))
      assert.deepEqual([...byReason.keys()].sort(), ['handler-failed', 'invalid-json', 'schema-mismatch'])
      assert.equal(byReason.get('invalid-json')!.value, '{not json')
      assert.equal(byReason.get('invalid-json')!.key, 'k')
      assert.match(byReason.get('invalid-json')!.group, /^g\./)
      assert.equal(byReason.get('invalid-json')!.topic, topic)
      assert.match(byReason.get('schema-mismatch')!.error, /^n: /)
      assert.equal(byReason.get('handler-failed')!.attempts, 2)
      assert.equal(byReason.get('handler-failed')!.error, 'poison')
      assert.deepEqual(JSON.parse(byReason.get('handler-failed')!.value), { n: 2 })
    })

    void it('hands an event left unacknowledged by a member that went away to another member', async () => {
      const topic = uniqueTopic('takeover')
      const seen: Array<{ member: string; id: string; attempt: number; key: string; n: number }> = []
      let stuck: string | undefined
      const subs = new Map<string, Subscription>()
      for (const member of ['A', 'B']) {
        const bus = await newBus()
        const sub = await subscribe<{ n: number }>(
          bus,
          topic,
          'crashy',
          (e) => {
            seen.push({ member, id: e.id, attempt: e.attempt, key: e.key, n: e.payload.n })
            if (stuck === undefined) {
              stuck = member
              return new Promise<void>(() => {}) // never acknowledges
            }
          },
          { closeTimeoutMs: 200 },
        )
        subs.set(member, sub)
      }
      const publisher = await newBus()
      await publisher.publish(topic, 'job', { n: 1 })
      await waitFor(() => stuck !== undefined, 'the first delivery', deadline)
      const first = seen[0]!
      await subs.get(stuck!)!.close()
      const other = stuck === 'A' ? 'B' : 'A'
      await publisher.publish(topic, 'job', { n: 2 })
      await waitFor(() => seen.some((s) => s.member === other && s.n === 2), `redelivery to ${other}`, deadline)
      const redelivered = seen.filter((s) => s.member === other)
      assert.equal(redelivered[0]!.id, first.id, 'the unacknowledged event comes first')
      assert.equal(redelivered[0]!.n, 1)
      assert.equal(redelivered[1]!.n, 2)
      if (target.countsRedeliveries) assert.ok(redelivered[0]!.attempt >= 2, `attempt ${redelivered[0]!.attempt}`)
    })

    void it('a closed subscription receives nothing more; the group keeps the events for its next member', async () => {
      const bus = await newBus()
      const topic = uniqueTopic('close')
      const first: number[] = []
      const sub = await subscribe<number>(bus, topic, 'g', (e) => void first.push(e.payload))
      await bus.publish(topic, 'k', 1)
      await waitFor(() => first.length === 1, 'event 1', deadline)
      await sub.close()
      await sub.close()
      await bus.publish(topic, 'k', 2)
      const second: number[] = []
      await subscribe<number>(await newBus(), topic, 'g', (e) => void second.push(e.payload))
      await waitFor(() => second.length === 1, 'event 2 at the next member', deadline)
      assert.deepEqual(first, [1])
      assert.deepEqual(second, [2])
    })
  })
}
