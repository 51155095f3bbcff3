// Option resolvers of the lock: one zod schema for the manager and per-lock options, one per store. Bad input is an
// InvalidArgumentError naming the field; the lock's messages keep their `lock field: reason` shape.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidDurationError } from '../../src/config/errors.ts'
import { createMemoryLockStore } from '../../src/coordination/lock/memory-lock-store.ts'
import { LockManager, resolveLockOptions } from '../../src/coordination/lock/lock.ts'
import { resolveQuorumLockStoreOptions } from '../../src/coordination/lock/quorum.ts'
import { resolveRedisLockStoreOptions } from '../../src/coordination/lock/redis-lock-store.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const named = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)
const store = createMemoryLockStore()

void test('lock options: defaults, Durations, per-lock overrides', () => {
  const base = resolveLockOptions({ store })
  assert.deepEqual(base, { ttlMs: 30_000, waitTimeoutMs: 10_000, retryDelayMs: 50, autoExtend: true, extendIntervalMs: 10_000 })
  assert.deepEqual(resolveLockOptions({ ttl: '3s', waitTimeout: 0 }, base), { ...base, ttlMs: 3000, waitTimeoutMs: 0, extendIntervalMs: 1000 })
  assert.equal(resolveLockOptions({ retryDelay: '20ms' }, base).extendIntervalMs, 10_000, 'no new ttl: the base interval')
})

void test('lock options: bad input names the field', () => {
  assert.throws(() => resolveLockOptions({ store, ttl: 1.5 }), named(/^lock ttl: must be a whole number of ms >= 1, got 1.5$/))
  assert.throws(() => resolveLockOptions({ store, retryDelay: 0 }), named(/^lock retryDelay: must be >= 1 ms, got 0$/))
  assert.throws(() => resolveLockOptions({ store, autoExtend: 'yes' as never }), named(/^lock autoExtend: must be true or false/))
  assert.throws(() => resolveLockOptions({ store, ttl: '3 weeks' as never }), (e: unknown) => e instanceof InvalidDurationError && /^lock ttl: /.test(e.message))
  assert.throws(() => new LockManager({} as never), named(/^lock store: required \(a LockStore\)$/))
  assert.throws(() => new LockManager({ store, ttl: 900, extendInterval: '1s' }), named(/^lock extendInterval: must be >= 1 ms and shorter than ttl \(900 ms\), got 1000$/))
})

void test('lock store options: timeout and drift as Durations, the …Ms names deprecated', () => {
  assert.deepEqual(resolveRedisLockStoreOptions({ timeout: '2s' }), { keyPrefix: 'lock:', timeoutMs: 2000 })
  assert.equal(resolveRedisLockStoreOptions({ timeoutMs: 300 }).timeoutMs, 300)
  assert.throws(() => resolveRedisLockStoreOptions({ timeout: 0 }), named(/^RedisLockStore: timeout: must be positive, got 0$/))
  assert.throws(() => resolveRedisLockStoreOptions({ timeout: 1, timeoutMs: 2 }), named(/^RedisLockStore: timeout: also given as timeoutMs/))
  assert.deepEqual(resolveQuorumLockStoreOptions({}), { keyPrefix: 'lock:', driftFactor: 0.01, driftMs: 2, timeoutMs: undefined })
  assert.equal(resolveQuorumLockStoreOptions({ drift: '5ms' }).driftMs, 5)
  assert.equal(resolveQuorumLockStoreOptions({ driftMs: 7 }).driftMs, 7)
  assert.throws(() => resolveQuorumLockStoreOptions({ driftFactor: 1 }), named(/^quorum lock: driftFactor: must be in \[0, 1\), got 1$/))
})
