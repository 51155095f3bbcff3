// The stores' option resolvers: Durations (deprecated …Ms names still accepted), defaults, and StoreOptionsError
// naming the field for bad input — the same error class on both engines.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidDurationError } from '../../src/config/errors.ts'
import { StoreOptionsError } from '../../src/store/errors.ts'
import { resolveMongoOptions, resolveSqliteOptions } from '../../src/store/options.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'

const invalid = (pattern: RegExp) => (e: unknown) => e instanceof StoreOptionsError && e.code === 'E_STORE_OPTIONS_INVALID' && pattern.test(e.message)

void test('store options: defaults, Durations, and the deprecated …Ms names', () => {
  assert.deepEqual(resolveSqliteOptions({ path: 'a.db' }), { path: 'a.db', busyTimeoutMs: 5000, synchronous: 'NORMAL' })
  assert.equal(resolveSqliteOptions({ path: 'a.db', busyTimeout: '2s' }).busyTimeoutMs, 2000)
  assert.equal(resolveSqliteOptions({ path: 'a.db', busyTimeoutMs: 700 }).busyTimeoutMs, 700)
  const mongo = resolveMongoOptions({ url: 'mongodb://h/' })
  assert.deepEqual(
    { ...mongo },
    { url: 'mongodb://h/', client: undefined, dbName: 'skalds', collectionName: 'tasks', connectTimeoutMs: 3000, ensureIndexes: true, writeLocks: 'auto', writeLockTtlMs: 10_000, writeLockWaitMs: 10_000 },
  )
  const custom = resolveMongoOptions({ url: 'mongodb://h/', connectTimeout: '500ms', writeLockTtl: '1m', writeLockWaitMs: 250 })
  assert.deepEqual([custom.connectTimeoutMs, custom.writeLockTtlMs, custom.writeLockWaitMs], [500, 60_000, 250])
})

void test('store options: bad input is a StoreOptionsError naming the field, on both engines', () => {
  assert.throws(() => SqliteTaskStore.open({ path: '' }), invalid(/^sqlite: .*path: must be a non-empty string/))
  assert.throws(() => resolveSqliteOptions({ path: 'a.db', busyTimeout: 0 }), invalid(/busyTimeout: must be positive/))
  assert.throws(() => resolveSqliteOptions({ path: 'a.db', busyTimeout: '1s', busyTimeoutMs: 5 }), invalid(/busyTimeout: also given as busyTimeoutMs/))
  assert.throws(() => resolveSqliteOptions({ path: 'a.db', synchronous: 'OFF' as 'FULL' }), invalid(/synchronous: must be one of 'NORMAL', 'FULL'/))
  assert.throws(() => resolveSqliteOptions({ path: 'a.db', busyTimeout: 'soon' as '1s' }), InvalidDurationError)
  assert.throws(() => resolveMongoOptions({}), invalid(/^mongodb: .*url: is required \(or pass a client\)/))
  assert.throws(() => resolveMongoOptions({ url: 'mongodb://h/', writeLocks: 'sometimes' as 'auto' }), invalid(/writeLocks: must be one of 'auto', 'always', 'never'/))
  assert.throws(() => resolveMongoOptions({ url: 'mongodb://h/', dbName: '' }), invalid(/dbName: must be a non-empty string/))
  assert.throws(() => resolveMongoOptions({ url: 'mongodb://h/', connectTimeout: -1 }), (e: unknown) => e instanceof InvalidDurationError && /mongodb: connectTimeout:/.test(e.message))
})

void test('store options: MongoTaskStore.connect refuses bad options before connecting', async () => {
  await assert.rejects(MongoTaskStore.connect({}), invalid(/url: is required/))
  await assert.rejects(MongoTaskStore.connect({ url: 'mongodb://127.0.0.1:1/', writeLockWait: 0 }), invalid(/writeLockWait: must be positive/))
})
