// The CacheService contract on the embedded memory backend (no server).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { MemoryBackend } from '../../../src/cache/backends/memory.ts'
import { createCache } from '../../../src/cache/index.ts'
import { silentLogger } from '../../../src/config/logger.ts'
import { cacheContract } from '../../contracts/cache-contract.ts'

// One backend shared by every cache of the suite: two createCache() on it behave like two processes on one Redis.
const backend = new MemoryBackend()
after(() => backend.close())

cacheContract('the memory backend', (options) => createCache({ logger: silentLogger, ...options, backend }))

void test('the embedded backend is bounded by the memory option', async () => {
  const cache = await createCache({ memory: { maxEntries: 5 }, logger: silentLogger })
  for (let i = 0; i < 20; i++) await cache.set(`k${i}`, i)
  const values = await cache.getMany(Array.from({ length: 20 }, (_, i) => `k${i}`))
  assert.equal(values.filter((v) => v !== undefined).length, 5)
  assert.equal(await cache.get('k19'), 19)
  await cache.close()
  await assert.rejects(createCache({ memory: { maxEntries: 0 } }), /maxEntries/)
})

void test('a pluggable serializer: its output is what is stored; its failures are SerializationErrors', async () => {
  const shared = new MemoryBackend()
  const serializer = {
    serialize: (value: unknown): string => {
      if (value instanceof Date) return `date:${value.toISOString()}`
      return `json:${JSON.stringify(value)}`
    },
    deserialize: (text: string): unknown => (text.startsWith('date:') ? new Date(text.slice(5)) : (JSON.parse(text.slice(5)) as unknown)),
  }
  const cache = await createCache({ backend: shared, serializer, namespace: 'ser', logger: silentLogger })
  const when = new Date('2026-01-02T03:04:05.000Z')
  await cache.set('when', when)
  assert.equal(await shared.get('ser:when'), 'date:2026-01-02T03:04:05.000Z')
  assert.deepEqual(await cache.get('when'), when)
  await cache.set('obj', { a: 1 }, { tags: ['t'] })
  assert.deepEqual(await cache.get('obj'), { a: 1 })
  const failing = await createCache({
    backend: shared,
    namespace: 'ser2',
    logger: silentLogger,
    serializer: { serialize: () => { throw new Error('nope') }, deserialize: (t) => t },
  })
  await assert.rejects(failing.set('x', 1), /value of ser2:x: cannot be serialized \(nope\)/)
  await shared.set('ser:garbage', 'json:{not json')
  assert.equal(await cache.get('garbage'), undefined, 'an unreadable entry reads as a miss')
  assert.equal(cache.stats()['ser']!.errors, 1)
  await cache.close()
  await failing.close()
  await shared.close()
})

void test('namespace options override the inherited defaults; children without options are reused', async () => {
  const cache = await createCache({ namespace: 'opts', ttl: '1h', nullTtl: '30s', logger: silentLogger })
  assert.equal(cache.namespace('a'), cache.namespace('a'))
  const short = cache.namespace('short', { ttl: '2s', nullTtl: 0 })
  const shorter = short.namespace('deeper')
  await cache.set('k', 1)
  await short.set('k', 1)
  await shorter.set('k', 1)
  assert.ok(((await cache.ttl('k')) ?? 0) > 3_000_000)
  assert.ok(((await short.ttl('k')) ?? Infinity) <= 2000)
  assert.ok(((await shorter.ttl('k')) ?? Infinity) <= 2000, 'a grandchild inherits its parent namespace options')
  assert.equal(await short.getOrSet('none', () => null), null)
  assert.equal(await short.exists('none'), false, 'nullTtl 0 inherited: nulls are not cached')
  await assert.rejects(createCache({ ttl: '-1s' as never }), /ttl/)
  await assert.rejects(createCache({ namespace: '__x' }), /reserved/)
  await assert.rejects(createCache({ l1: { maxEntries: 0 } }), /l1.maxEntries/)
  await assert.rejects(createCache({ breaker: { failureThreshold: 1 } }), /breaker/)
  await cache.close()
})
