// Option resolvers of the cache: createCache, the L1, the embedded and Redis backends, ResilientBackend and
// RedisProxy. Bad input is an InvalidArgumentError naming the field in all of them (RedisProxy's maxValueBytes was a
// TypeError); a malformed duration an InvalidDurationError.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidDurationError } from '../../src/config/errors.ts'
import { MemoryBackend, resolveMemoryBackendOptions } from '../../src/cache/backends/memory.ts'
import { resolveResilientOptions } from '../../src/cache/backends/resilient.ts'
import { resolveProxyOptions } from '../../src/cache/proxy/redis-proxy.ts'
import { resolveSweeperOptions } from '../../src/cache/proxy/hash-ttl-sweeper.ts'
import { createCache } from '../../src/cache/service/create-cache.ts'
import { resolveCacheOptions, resolveDefaults, ROOT_DEFAULTS } from '../../src/cache/service/options.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const invalid = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && e.code === 'E_INVALID_ARGUMENT' && pattern.test(e.message)

void test('createCache options: defaults and Durations in ms', () => {
  const o = resolveCacheOptions({})
  assert.equal(o.namespace, 'cache')
  assert.deepEqual([o.timeoutMs, o.slowThresholdMs, o.maxValueBytes, o.strict, o.l1, o.broadcastInvalidations], [1000, 100, 1024 * 1024, false, undefined, false])
  assert.deepEqual(o.defaults, ROOT_DEFAULTS)
  const l1 = resolveCacheOptions({ l1: {}, ttl: '2m', grace: '10s', lock: { ttl: '3s' }, timeout: '250ms' })
  assert.deepEqual(l1.l1, { maxEntries: 10_000, maxTtlMs: 60_000 })
  assert.equal(l1.broadcastInvalidations, true)
  assert.deepEqual([l1.defaults.ttlMs, l1.defaults.graceMs, l1.defaults.lockTtlMs, l1.timeoutMs], [120_000, 10_000, 3000, 250])
  assert.equal(resolveDefaults({ jitter: 10 }, { ...ROOT_DEFAULTS, ttlMs: 5 }).ttlMs, 5, 'a namespace inherits its parent')
})

void test('createCache options: bad input names the field', async () => {
  assert.throws(() => resolveCacheOptions({ timeout: 0 }), invalid(/^timeout: must be positive, got 0$/))
  assert.throws(() => resolveCacheOptions({ ttl: 0 }), invalid(/^ttl: must be positive/))
  assert.throws(() => resolveCacheOptions({ jitter: 101 }), invalid(/^jitter: must be a percentage from 0 to 100, got 101$/))
  assert.throws(() => resolveCacheOptions({ lock: { ttl: 0 } }), invalid(/^lock\.ttl: must be positive/))
  assert.throws(() => resolveCacheOptions({ maxValueBytes: 1.5 }), invalid(/^maxValueBytes: must be a positive integer, got 1.5$/))
  assert.throws(() => resolveCacheOptions({ l1: { maxEntries: 0 } }), invalid(/^l1\.maxEntries: must be a positive integer/))
  assert.throws(() => resolveCacheOptions({ l1: { ttl: 0 } }), invalid(/^l1\.ttl: must be positive/))
  assert.throws(() => resolveCacheOptions({ l1: true as never }), invalid(/^l1: must be false or an object, got boolean$/))
  assert.throws(() => resolveCacheOptions({ memory: { maxBytes: 0 } }), invalid(/^memory\.maxBytes: must be a positive integer/))
  assert.throws(() => resolveCacheOptions({ breaker: { failureThreshold: 0 } }), invalid(/^breaker\.failureThreshold: must be a positive integer/))
  assert.throws(() => resolveCacheOptions({ redis: { commandTimeout: 0 } }), invalid(/^redis\.commandTimeout: must be positive/))
  assert.throws(() => resolveCacheOptions({ serializer: {} as never }), invalid(/^serializer: must have serialize/))
  assert.throws(() => resolveCacheOptions({ namespace: 'a*' }), invalid(/^namespace: "a\*" must not contain glob characters/))
  assert.throws(() => resolveCacheOptions({ grace: '1 week' as never }), (e: unknown) => e instanceof InvalidDurationError && /^grace: /.test((e as Error).message))
  await assert.rejects(createCache(null as never), invalid(/^options: must be an object, got null$/))
})

void test('backend options: MemoryBackend, ResilientBackend', () => {
  assert.deepEqual(resolveMemoryBackendOptions({}), { maxEntries: 100_000, maxBytes: 256 * 1024 * 1024, sweepIntervalMs: 1000 })
  assert.equal(resolveMemoryBackendOptions({ sweepInterval: '5s' }).sweepIntervalMs, 5000)
  assert.equal(resolveMemoryBackendOptions({ sweepIntervalMs: 250 }).sweepIntervalMs, 250, 'the deprecated name still works')
  assert.throws(() => new MemoryBackend({ maxEntries: 0 }), invalid(/^maxEntries: must be a positive integer, got 0$/))
  assert.throws(() => resolveMemoryBackendOptions({ sweepInterval: 0 }), invalid(/^sweepInterval: must be positive/))
  const r = resolveResilientOptions({ breaker: { openFor: '2s' } })
  assert.deepEqual(r, { timeoutMs: 1000, bulkTimeoutMs: 60_000, innerBoundsCalls: false, breaker: true, failureThreshold: 5, openForMs: 2000 })
  assert.equal(resolveResilientOptions({ breaker: false }).breaker, false)
  assert.throws(() => resolveResilientOptions({ bulkTimeout: 0 }), invalid(/^bulkTimeout: must be positive/))
  assert.throws(() => resolveResilientOptions({ onStateChange: 1 as never }), invalid(/^onStateChange: must be a function$/))
})

void test('RedisProxy options: InvalidArgumentError like createCache (was TypeError for maxValueBytes)', () => {
  assert.deepEqual(resolveProxyOptions({}), { maxValueBytes: 64 * 1024 * 1024, hashFieldTtl: 'auto' })
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => resolveProxyOptions({ maxValueBytes: bad }), invalid(/^maxValueBytes: must be a positive integer/))
    assert.throws(() => resolveCacheOptions({ maxValueBytes: bad }), invalid(/^maxValueBytes: must be a positive integer/), 'the same error class as createCache')
  }
  assert.throws(() => resolveProxyOptions({ hashFieldTtl: 'native' as never }), invalid(/^hashFieldTtl: must be one of 'auto', 'emulated'/))
  assert.throws(() => resolveProxyOptions({ sweeper: { interval: 0 } }), invalid(/^sweeper\.interval: must be positive/))
  assert.deepEqual(resolveSweeperOptions({ interval: '1m' }), { intervalMs: 60_000, scanCount: 500 })
})
