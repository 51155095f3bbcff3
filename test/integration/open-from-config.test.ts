// openBus and openTaskStore on the real servers, from loadConfig() over the variables `npm test` exports: Redis
// Streams when only Redis is given, Kafka when brokers are, MongoDB when MONGO_URL is.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { MongoClient } from 'mongodb'
import { KafkaBus } from '../../src/bus/kafka.ts'
import { openBus } from '../../src/bus/open.ts'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import type { EventBus } from '../../src/bus/types.ts'
import { loadConfig } from '../../src/config/env.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'
import { openTaskStore } from '../../src/store/open.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { waitFor } from '../helpers/wait.ts'
import { mongoUrl, redis8Url } from '../helpers/servers.ts'
import { uniqueTopic } from '../contracts/bus-contract.ts'

function kafkaBrokers(): string {
  const value = process.env.KAFKA_BROKERS
  if (!value) throw new Error('KAFKA_BROKERS is not set: run through `npm test` or eval "$(bash scripts/services.sh env)"')
  return value
}

/** One event through the bus, from publish to handler. */
async function roundTrip(bus: EventBus, label: string): Promise<void> {
  const topic = uniqueTopic(label)
  const got: unknown[] = []
  const sub = await bus.subscribe(topic, `g-${label}`, (event) => {
    got.push(event.payload)
  })
  await bus.publish(topic, 'k', { label })
  await waitFor(() => got.length > 0, `the ${label} event`, 30_000)
  assert.deepEqual(got, [{ label }])
  await sub.close()
}

void test('openBus: only Redis given → Redis Streams on a connection the bus opens and closes', async () => {
  const prefix = `open-${randomUUID().slice(0, 8)}:`
  const config = loadConfig({ env: { REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix }, dotenv: false })
  assert.equal(config.bus, 'redis-streams')
  const bus = await openBus(config, { logger: silentLogger, redisStreams: { partitions: 2 } })
  assert.ok(bus instanceof RedisStreamsBus)
  await roundTrip(bus, 'redis-streams')
  await bus.close()
  assert.equal(bus.connection.closed, true, 'the connection openBus opened is closed with the bus')
  const cleanup = await RedisConnection.connect({ url: redis8Url(), logger: silentLogger })
  await deleteKeysWithPrefix(cleanup, prefix)
  await cleanup.close()
})

void test('openBus: brokers given (Redis too) → Kafka', async () => {
  const config = loadConfig({ env: { REDIS_URL: redis8Url(), KAFKA_BROKERS: kafkaBrokers() }, dotenv: false })
  assert.equal(config.bus, 'kafka')
  const bus = await openBus(config, { logger: silentLogger, kafka: { partitions: 1, maxWaitTimeMs: 100 } })
  try {
    assert.ok(bus instanceof KafkaBus)
    await roundTrip(bus, 'kafka')
  } finally {
    await bus.close()
  }
})

void test('openTaskStore: MONGO_URL → MongoTaskStore on DB_NAME', async () => {
  const dbName = `skalds_test_open_${process.pid}_${randomUUID().slice(0, 8)}`
  const config = loadConfig({ env: { MONGO_URL: mongoUrl(), DB_NAME: dbName }, dotenv: false })
  const store = await openTaskStore(config.store, { mongodb: { ensureIndexes: false } })
  try {
    assert.ok(store instanceof MongoTaskStore)
    await store.create({ id: 't1', className: 'C', source: 'test' })
    const client = await MongoClient.connect(mongoUrl())
    try {
      assert.equal((await client.db(dbName).collection('tasks').findOne({ id: 't1' }))?.className, 'C', 'written to DB_NAME')
      await client.db(dbName).dropDatabase()
    } finally {
      await client.close()
    }
  } finally {
    await store.close()
  }
})
