// Option resolvers of the Bloom filters: create options (capacity, errorRate) and RedisBloom's. Bad input is an
// InvalidArgumentError naming the field.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryBloom } from '../../src/coordination/bloom/memory.ts'
import { resolveBloomOptions } from '../../src/coordination/bloom/params.ts'
import { RedisBloom, resolveRedisBloomOptions } from '../../src/coordination/bloom/redis.ts'
import type { RedisConnection } from '../../src/redis/connection.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const named = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)

void test('bloom create options: sizing, capacity, errorRate, the Redis string limit', async () => {
  assert.deepEqual(resolveBloomOptions({ capacity: 10_000, errorRate: 0.01 }), { capacity: 10_000, errorRate: 0.01, bits: 95_851, hashes: 7 })
  assert.throws(() => resolveBloomOptions({ capacity: 0, errorRate: 0.01 }), named(/^capacity: must be a positive integer, got 0$/))
  assert.throws(() => resolveBloomOptions({ capacity: 1.5, errorRate: 0.01 }), named(/^capacity: must be a positive integer, got 1.5$/))
  assert.throws(() => resolveBloomOptions({ errorRate: 0.01 } as never), named(/^capacity: must be a positive integer, got undefined$/))
  assert.throws(() => resolveBloomOptions({ capacity: 0, errorRate: 0 }), named(/^capacity: /), 'capacity is reported first')
  assert.throws(() => resolveBloomOptions({ capacity: 10, errorRate: 1 }), named(/^errorRate: must be a number strictly between 0 and 1, got 1$/))
  assert.throws(() => resolveBloomOptions({ capacity: 10, errorRate: Number.NaN }), named(/^errorRate: must be a number strictly between 0 and 1, got NaN$/))
  assert.throws(() => resolveBloomOptions({ capacity: 10, errorRate: '0.1' as never }), named(/^errorRate: must be a number strictly between 0 and 1, got "0.1"$/))
  assert.throws(() => resolveBloomOptions(undefined as never), named(/^capacity: must be a positive integer, got undefined$/))
  assert.throws(
    () => resolveBloomOptions({ capacity: 2 ** 40, errorRate: 0.01 }),
    named(/^capacity: 1099511627776 items at errorRate 0.01 need \d+ bits, more than the 4294967296 a Redis string holds$/),
  )
  await assert.rejects(new MemoryBloom().create('x', { capacity: -1, errorRate: 0.1 }), named(/^capacity: must be a positive integer/))
})

void test('RedisBloom options: defaults, implementation, keyPrefix', () => {
  assert.deepEqual(resolveRedisBloomOptions(undefined), { implementation: 'auto', keyPrefix: 'bloom:' })
  assert.deepEqual(resolveRedisBloomOptions({ implementation: 'lua', keyPrefix: 'bf:' }), { implementation: 'lua', keyPrefix: 'bf:' })
  assert.throws(() => resolveRedisBloomOptions({ implementation: 'cuckoo' as never }), named(/^RedisBloom: implementation: must be one of 'auto', 'native', 'lua', got "cuckoo"$/))
  assert.throws(() => resolveRedisBloomOptions({ keyPrefix: 1 as never }), named(/^RedisBloom: keyPrefix: must be a string$/))
  assert.throws(() => new RedisBloom({} as RedisConnection, { implementation: 'x' as never }), named(/^RedisBloom: implementation: /))
})
