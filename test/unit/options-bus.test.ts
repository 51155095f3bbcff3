// Option resolvers of the bus: one zod schema per engine plus the subscribe options every engine shares. Bad input is
// a BusArgumentError naming the field in all of them (MemoryBus.subscribe threw TypeError for a missing handler).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveSubscribeOptions } from '../../src/bus/delivery.ts'
import { BusArgumentError } from '../../src/bus/errors.ts'
import { resolveKafkaOptions } from '../../src/bus/kafka.ts'
import { MemoryBus, resolveMemoryBusOptions } from '../../src/bus/memory.ts'
import { resolveRedisStreamsOptions } from '../../src/bus/redis-streams.ts'
import { silentLogger } from '../../src/config/logger.ts'
import type { RedisConnection } from '../../src/redis/connection.ts'

const named = (pattern: RegExp) => (e: unknown) => e instanceof BusArgumentError && e.code === 'E_BUS_ARGUMENT' && pattern.test(e.message)
const connection = {} as RedisConnection

void test('subscribe options: defaults, Durations and the deprecated …Ms names', () => {
  assert.deepEqual(resolveSubscribeOptions(undefined), { schema: undefined, maxDeliveries: 5, retryDelayMs: 1000, startFrom: 'latest', closeTimeoutMs: 5000 })
  const o = resolveSubscribeOptions({ retryDelay: '2s', closeTimeout: 0 })
  assert.deepEqual([o.retryDelayMs, o.closeTimeoutMs], [2000, 0])
  const legacy = resolveSubscribeOptions({ retryDelayMs: 50, closeTimeoutMs: 700 })
  assert.deepEqual([legacy.retryDelayMs, legacy.closeTimeoutMs], [50, 700])
  assert.throws(() => resolveSubscribeOptions({ maxDeliveries: 0 }, 't'), named(/^subscribe t: maxDeliveries: must be a positive integer, got 0$/))
})

void test('MemoryBus.subscribe: bad arguments are BusArgumentError as in the other engines', async () => {
  const bus = new MemoryBus({ logger: silentLogger })
  await assert.rejects(bus.subscribe('t', 'g', 'nope' as never), named(/^subscribe t: handler must be a function$/))
  await assert.rejects(bus.subscribe('t', 'g', () => {}, { retryDelayMs: 1.5 }), named(/^subscribe t: retryDelayMs: must be a whole number of ms/))
  await bus.close()
  assert.deepEqual(resolveMemoryBusOptions({}), { maxPendingPerGroup: 100_000, deadLetterSuffix: '.dlq' })
  assert.throws(() => new MemoryBus({ maxPendingPerGroup: 0 }), named(/^MemoryBus: maxPendingPerGroup: must be a positive integer, got 0$/))
})

void test('RedisStreamsBus options', () => {
  const o = resolveRedisStreamsOptions({ connection, lease: '30s', block: '250ms' })
  assert.deepEqual(o, { partitions: 4, maxLen: 100_000, leaseMs: 30_000, blockMs: 250, batchSize: 100, namespace: 'skalds:bus:', deadLetterSuffix: '.dlq' })
  assert.equal(resolveRedisStreamsOptions({ connection, leaseMs: 5000, blockMs: 100 }).leaseMs, 5000, 'the deprecated names still work')
  assert.throws(() => resolveRedisStreamsOptions({ connection, lease: 100 }), named(/^RedisStreamsBus: lease: must be at least 300 ms, got 100$/))
  assert.throws(() => resolveRedisStreamsOptions({ connection, batchSize: 0 }), named(/^RedisStreamsBus: batchSize: must be a positive integer/))
  assert.throws(() => resolveRedisStreamsOptions({} as never), named(/^RedisStreamsBus: connection: /))
})

void test('KafkaBus options', () => {
  const o = resolveKafkaOptions({ brokers: 'a:9092, b:9093', sessionTimeout: '30s', requestTimeoutMs: 2000 })
  assert.deepEqual(o.brokers, ['a:9092', 'b:9093'])
  assert.deepEqual([o.sessionTimeoutMs, o.heartbeatIntervalMs, o.maxWaitTimeMs, o.requestTimeoutMs, o.acks, o.replicationFactor], [30_000, 1000, 500, 2000, -1, -1])
  assert.throws(() => resolveKafkaOptions({ brokers: [] }), named(/^KafkaBus: brokers: must name at least one host:port$/))
  assert.throws(() => resolveKafkaOptions({ brokers: ['a:1', 'nope'] }), named(/^KafkaBus: brokers\[1\]: "nope" is not host:port$/))
  assert.throws(() => resolveKafkaOptions({ brokers: 'a:1', acks: 'none' as never }), named(/^KafkaBus: acks: must be one of 'all', 'leader'/))
  assert.throws(() => resolveKafkaOptions({ brokers: 'a:1', sessionTimeout: 500 }), named(/^KafkaBus: sessionTimeout: must be at least 1000 ms/))
  assert.throws(() => resolveKafkaOptions({ brokers: 'a:1', replicationFactor: 0 }), named(/^KafkaBus: replicationFactor: must be -1/))
})
