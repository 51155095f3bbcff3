// Option resolvers of the rate limiter: the limiter (policy + store-failure policy), the Redis store, the Fastify
// plugin and its rules. Bad input is an InvalidArgumentError naming the field.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidDurationError } from '../../src/config/errors.ts'
import { resolvePolicy, resolveRateLimiterOptions } from '../../src/coordination/rate-limit/limiter.ts'
import { resolveRateLimitPluginOptions } from '../../src/coordination/rate-limit/fastify-plugin.ts'
import { MemoryRateLimitStore } from '../../src/coordination/rate-limit/memory-rate-limit-store.ts'
import { resolveRedisRateLimitStoreOptions } from '../../src/coordination/rate-limit/redis-rate-limit-store.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const named = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)
const store = new MemoryRateLimitStore()

void test('rate limiter options: defaults and Durations', () => {
  const o = resolveRateLimiterOptions({ store, limit: 5, window: '1m', storeErrorRetryAfter: '2s' })
  assert.deepEqual({ ...o, store: undefined }, {
    store: undefined,
    policy: { algorithm: 'sliding-window', limit: 5, windowMs: 60_000 },
    keyPrefix: 'rl:',
    onStoreError: 'fallback-local',
    storeErrorRetryAfterMs: 2000,
    logger: undefined,
  })
  assert.deepEqual(resolvePolicy({ algorithm: 'token-bucket', limit: 2, window: 10 }), { algorithm: 'token-bucket', limit: 2, windowMs: 10 })
})

void test('rate limiter options: bad input names the field', () => {
  assert.throws(() => resolvePolicy({ limit: 0, window: '1s' }), named(/^rate limit limit: must be a whole number >= 1, got 0$/))
  assert.throws(() => resolvePolicy({ algorithm: 'token-bucket', limit: 0, window: '1s' }), named(/^rate limit limit: must be a whole number >= 1 \(the bucket capacity\), got 0$/))
  assert.throws(() => resolvePolicy({ limit: 1, window: undefined as never }), named(/^rate limit window: required/))
  assert.throws(() => resolvePolicy({ limit: 1, window: 0.5 }), named(/^rate limit window: must be at least 1 ms, got 0.5$/))
  assert.throws(() => resolvePolicy({ limit: 1, window: 'soon' as never }), (e: unknown) => e instanceof InvalidDurationError && /^rate limit window: /.test(e.message))
  assert.throws(() => resolveRateLimiterOptions({ store, limit: 1, window: 1, onStoreError: 'ignore' as never }), named(/^rate limit onStoreError: must be one of 'fallback-local', 'deny', 'allow'/))
  assert.throws(() => resolveRateLimiterOptions({ limit: 1, window: 1 } as never), named(/^rate limit store: required \(a RateLimitStore\)$/))
})

void test('Redis store and Fastify plugin options', () => {
  assert.equal(resolveRedisRateLimitStoreOptions({ timeout: '250ms' }).timeoutMs, 250)
  assert.equal(resolveRedisRateLimitStoreOptions({ timeoutMs: 300 }).timeoutMs, 300, 'the deprecated name still works')
  assert.throws(() => resolveRedisRateLimitStoreOptions({ timeout: 0 }), named(/^RedisRateLimitStore: timeout: must be positive, got 0$/))
  const o = resolveRateLimitPluginOptions({ storeErrorRetryAfter: '3s' })
  assert.deepEqual([o.keyBy, o.keyPrefix, o.legacyHeaders, o.ietfHeaders, o.storeErrorRetryAfter], ['ip', 'rl:http:', true, 'structured', 3000])
  assert.throws(() => resolveRateLimitPluginOptions({ headers: { ietf: 'draft-99' as never } }), named(/^rateLimit plugin headers.ietf: must be 'structured', 'draft-07' or false/))
  assert.throws(() => resolveRateLimitPluginOptions({ skip: true as never }), named(/^rateLimit plugin skip: must be a function$/))
})
