// The Kafka bus against the Event Queue contract, what Skalds' Python side expects on the wire and the per-node group
// resuming, each on both shared brokers: Kafka 4.x (KAFKA_BROKERS) and Kafka 3.9 (KAFKA39_BROKERS, the line a fleet
// with Python Skalds runs on: docs/python-interop.md); and a broker restart mid-stream (test-owned 4.x broker).
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin, compatibilityPartitioner, Consumer, stringDeserializers } from '@platformatic/kafka'
import { silentLogger } from '../../src/config/logger.ts'
import { KafkaBus, type KafkaBusOptions } from '../../src/bus/kafka.ts'
import { nodeGroupId } from '../../src/bus/types.ts'
import { createTestKafkaBroker } from '../helpers/kafka-broker.ts'
import { busContract, uniqueTopic } from '../contracts/bus-contract.ts'
import { retry, waitFor } from '../helpers/wait.ts'

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run through \`npm test\` or \`npm run services -- up\` then eval "$(bash scripts/services.sh env)"`)
  return value
}
const brokers = (): string => required('KAFKA_BROKERS')

/** The shared brokers the contract and the wire tests run on. */
const TARGETS: Array<{ name: string; brokers: () => string }> = [
  { name: 'kafka', brokers },
  { name: 'kafka39', brokers: () => required('KAFKA39_BROKERS') },
]

/** Partitions of the topics the contract's buses create (KafkaBus' default). */
const PARTITIONS = 3
const fast: Partial<KafkaBusOptions> = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100, logger: silentLogger }
const opened: KafkaBus[] = []
after(async () => {
  await Promise.all(opened.map((b) => b.close()))
})

for (const target of TARGETS) {
  const targetBrokers = target.brokers
  const newBus = (options: Partial<KafkaBusOptions> = {}): KafkaBus => {
    const bus = new KafkaBus({ brokers: targetBrokers(), ...fast, ...options })
    opened.push(bus)
    return bus
  }
  const admin = new Admin({ clientId: 'bus-contract-settle', bootstrapBrokers: [targetBrokers()] })
  after(() => admin.close())

  busContract({
    name: target.name,
    create: () => Promise.resolve(newBus()),
    // The default `latest` (Skalds' parity setting): groups record their start positions, so rebalances skip nothing.
    countsRedeliveries: false,
    // The group coordinator's view: rebalance done, every partition of the topic assigned among its members.
    settled: async (topic, group, members) => {
      const described = (await admin.describeGroups({ groups: [group] })).get(group)
      if (described?.state !== 'STABLE') return false
      const onTopic = [...described.members.values()].filter((member) => member.metadata?.topics?.includes(topic))
      const assigned = new Set(onTopic.flatMap((member) => member.assignments?.get(topic)?.partitions ?? []))
      return onTopic.length === members && assigned.size === PARTITIONS
    },
    // docs/bus.md: during a rebalance the old owner may finish an event the new owner handles again.
    redeliversOnRebalance: true,
    deadlineMs: 45_000,
  })

  void describe(`${target.name}: wire format and groups`, () => {
    void it('writes string keys, JSON values, no headers, on the partition the Java/Python clients pick', async () => {
      const bus = newBus({ partitions: 3 })
      const topic = uniqueTopic('wire')
      const keys = ['t-1', 't-2', 't-3', 't-4', 't-5']
      for (const key of keys) await bus.publish(topic, key, { taskIds: [key] })
      const consumer = new Consumer({ clientId: 'wire-check', groupId: `wire-${topic}`, bootstrapBrokers: [targetBrokers()], deserializers: stringDeserializers, autocommit: false, maxWaitTime: 100 })
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' })
      const seen: Array<{ key: string; value: string; partition: number; headers: number }> = []
      for await (const message of stream) {
        seen.push({ key: message.key, value: message.value, partition: message.partition, headers: message.headers.size })
        if (seen.length === keys.length) break
      }
      await stream.close()
      await (consumer.close(true) as unknown as Promise<void>)
      for (const key of keys) {
        const record = seen.find((s) => s.key === key)!
        assert.deepEqual(JSON.parse(record.value), { taskIds: [key] })
        assert.equal(record.headers, 0)
        assert.equal(record.partition, compatibilityPartitioner(undefined as never, Buffer.from(key)) % 3, `partition of ${key}`)
      }
    })

    void it('a node group resumes after a restart: events published while it was away arrive (latest, committed)', async () => {
      const topic = uniqueTopic('resume')
      const group = nodeGroupId(`skald-${topic}`)
      const publisher = newBus()
      await publisher.publish(topic, 'before', 0) // creates the topic; a new `latest` group does not see it
      // By event id: a late rebalance may hand the group's member an event again (at least once).
      const first = new Map<string, number>()
      const node = newBus()
      const sub = await node.subscribe<number>(topic, group, (e) => void first.set(e.id, e.payload))
      for (let i = 1; i <= 3; i++) await publisher.publish(topic, `k${i}`, i)
      await waitFor(() => first.size === 3, '3 events', 45_000)
      await sub.close()
      for (let i = 4; i <= 5; i++) await publisher.publish(topic, `k${i}`, i)
      const second: number[] = []
      await newBus().subscribe<number>(topic, group, (e) => void second.push(e.payload))
      await waitFor(() => second.length >= 2, 'the 2 events sent while away', 45_000)
      assert.deepEqual([...first.values()].sort(), [1, 2, 3])
      assert.deepEqual([...second].sort(), [4, 5])
    })

    void it('a new `latest` group records its start positions: an event its first member never acknowledged reaches the next member', async () => {
      const topic = uniqueTopic('latest-takeover')
      const group = `latest.${topic}`
      const publisher = newBus()
      await publisher.publish(topic, 'old', -1) // published before the group existed: not for it
      let stuck = false
      const first = await newBus().subscribe<number>(
        topic,
        group,
        () => {
          stuck = true
          return new Promise<void>(() => {}) // never acknowledges
        },
        { closeTimeoutMs: 200 },
      )
      await publisher.publish(topic, 'job', 1)
      await waitFor(() => stuck, 'the first member to take event 1', 45_000)
      await first.close()
      const seen: number[] = []
      await newBus().subscribe<number>(topic, group, (e) => void seen.push(e.payload))
      await waitFor(() => seen.includes(1), 'event 1 at the next member', 45_000)
      assert.deepEqual(seen, [1])
    })

  })
}

void describe('kafka: broker restart', () => {
  void it('a broker restart mid-stream (longer than the client retries) loses no event', async () => {
    const broker = await createTestKafkaBroker()
    try {
      await broker.start()
      // Few retries: the outage outlasts them, so the consumer dies and the subscription must rejoin by itself.
      const bus = new KafkaBus({ brokers: broker.address, ...fast, retries: 2, requestTimeoutMs: 3000 })
      opened.push(bus)
      const topic = uniqueTopic('restart')
      const handled = new Set<number>()
      await bus.subscribe<number>(topic, 'g', (e) => void handled.add(e.payload), { startFrom: 'earliest' })
      const total = 200
      for (let i = 0; i < total; i++) {
        if (i === 100) {
          await waitFor(() => handled.size >= 50, 'events handled before the restart', 45_000)
          await broker.stop()
          await broker.start()
        }
        // The bus does not buffer: while the broker is away publish rejects, and the producer retries.
        await retry(() => bus.publish(topic, `k${i % 5}`, i), `publishing event ${i}`, 60_000, 200)
      }
      await waitFor(() => handled.size === total, `all ${total} events handled after the restart`, 60_000)
      await bus.close()
    } finally {
      await broker.destroy()
    }
  })
})
