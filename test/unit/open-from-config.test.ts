// The engine layers over loadConfig(): Redis connection options, openTaskStore / openTaskStoreFromEnv and openBus
// take the configuration's plain data; only what needs no server runs here (the servers: open-from-config.test.ts
// under test/integration).
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { BusArgumentError } from '../../src/bus/errors.ts'
import { MemoryBus } from '../../src/bus/memory.ts'
import { openBus } from '../../src/bus/open.ts'
import { loadConfig } from '../../src/config/env.ts'
import { InvalidConfigError } from '../../src/config/errors.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { connectionOptionsFromEnv } from '../../src/redis/connection-options.ts'
import { StoreUnavailableError } from '../../src/store/errors.ts'
import { openTaskStore, openTaskStoreFromEnv } from '../../src/store/open.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { waitFor } from '../helpers/wait.ts'

const tempDir = () => mkdtempSync(join(tmpdir(), 'skalds-open-'))

void test('connectionOptionsFromEnv: REDIS_HOST / REDIS_PORT / REDIS_PASSWORD / REDIS_KEY_PREFIX', () => {
  const options = connectionOptionsFromEnv({ env: { REDIS_HOST: 'cache.local', REDIS_PORT: '6380', REDIS_PASSWORD: 's3cret', REDIS_KEY_PREFIX: 'app:' }, dotenv: false })
  assert.deepEqual(options, { host: 'cache.local', port: 6380, password: 's3cret', keyPrefix: 'app:' })
})

void test('connectionOptionsFromEnv: REDIS_URL wins over REDIS_HOST; REDIS_CLUSTER_NODES over both', () => {
  assert.deepEqual(connectionOptionsFromEnv({ env: { REDIS_URL: 'rediss://u:p@h:1/2', REDIS_HOST: 'other' }, dotenv: false }), { url: 'rediss://u:p@h:1/2' })
  assert.deepEqual(connectionOptionsFromEnv({ env: { REDIS_CLUSTER_NODES: 'a:1, b:2', REDIS_URL: 'redis://h:1', REDIS_PASSWORD: 'pw' }, dotenv: false }), {
    cluster: { nodes: ['a:1', 'b:2'] },
    password: 'pw',
  })
})

void test('connectionOptionsFromEnv: no Redis variable → undefined; a bad one → InvalidConfigError naming it', () => {
  assert.equal(connectionOptionsFromEnv({ env: {}, dotenv: false }), undefined)
  assert.throws(
    () => connectionOptionsFromEnv({ env: { REDIS_HOST: 'h', REDIS_PORT: '70000' }, dotenv: false }),
    (e: unknown) => e instanceof InvalidConfigError && e.variable === 'REDIS_PORT',
  )
})

void test('connectionOptionsFromEnv: reads .env under the environment, as loadConfig does', () => {
  const dir = tempDir()
  writeFileSync(join(dir, '.env'), 'REDIS_HOST=from-file\nREDIS_PORT=7000\n')
  assert.deepEqual(connectionOptionsFromEnv({ env: { REDIS_PORT: '7001' }, dotenv: join(dir, '.env') }), { host: 'from-file', port: 7001 })
})

void test('openTaskStore: the sqlite config opens a SqliteTaskStore on its path, with the engine options', async () => {
  const path = join(tempDir(), 'tasks.db')
  const store = await openTaskStore({ engine: 'sqlite', path }, { sqlite: { busyTimeoutMs: 100 } })
  try {
    assert.ok(store instanceof SqliteTaskStore)
    await store.create({ id: 't1', className: 'C', source: 'test' })
    assert.equal((await store.get('t1'))?.className, 'C')
  } finally {
    await store.close()
  }
  const again = await openTaskStore(loadConfig({ env: { SKALDS_SQLITE_PATH: path }, dotenv: false }).store)
  try {
    assert.equal((await again.get('t1'))?.id, 't1', 'the same file through loadConfig().store')
  } finally {
    await again.close()
  }
})

void test('openTaskStoreFromEnv: SKALDS_SQLITE_PATH without MONGO_URL → SQLite on that file', async () => {
  const path = join(tempDir(), 'env.db')
  const store = await openTaskStoreFromEnv({ env: { SKALDS_SQLITE_PATH: path }, dotenv: false })
  try {
    assert.ok(store instanceof SqliteTaskStore)
  } finally {
    await store.close()
  }
})

void test('openTaskStoreFromEnv: a bad MONGO_URL is an InvalidConfigError before any connection', async () => {
  await assert.rejects(openTaskStoreFromEnv({ env: { MONGO_URL: 'http://db' }, dotenv: false }), (e: unknown) => e instanceof InvalidConfigError && e.variable === 'MONGO_URL')
})

void test('openTaskStore: the mongodb config goes to MongoTaskStore (an unreachable server fails with StoreUnavailableError)', async () => {
  await assert.rejects(
    openTaskStore({ engine: 'mongodb', url: 'mongodb://127.0.0.1:1/', dbName: 'skalds' }, { mongodb: { connectTimeoutMs: 200 } }),
    StoreUnavailableError,
  )
})

void test('openBus: memory → a MemoryBus that delivers', async () => {
  const bus = await openBus(loadConfig({ env: {}, dotenv: false }), { logger: silentLogger })
  try {
    assert.ok(bus instanceof MemoryBus)
    const got: unknown[] = []
    const sub = await bus.subscribe('t', 'g', (event) => {
      got.push(event.payload)
    })
    await bus.publish('t', 'k', { n: 1 })
    await waitFor(() => got.length > 0, 'the event')
    assert.deepEqual(got, [{ n: 1 }])
    await sub.close()
  } finally {
    await bus.close()
  }
})

void test('openBus: an engine without its servers, Kafka credentials, or an unknown engine → BusArgumentError', async () => {
  await assert.rejects(openBus({ bus: 'redis-streams' }), (e: unknown) => e instanceof BusArgumentError && /config\.redis/.test(e.message))
  await assert.rejects(openBus({ bus: 'kafka' }), (e: unknown) => e instanceof BusArgumentError && /config\.kafka/.test(e.message))
  await assert.rejects(
    openBus(loadConfig({ env: { KAFKA_BROKERS: 'k:9092', KAFKA_USERNAME: 'u', KAFKA_PASSWORD: 'p' }, dotenv: false })),
    (e: unknown) => e instanceof BusArgumentError && /SASL/.test(e.message),
  )
  await assert.rejects(openBus({ bus: 'rabbitmq' as never }), BusArgumentError)
})
