// The CacheService contract on the embedded memory backend (no server).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { MemoryBackend } from '../../../src/cache/backends/memory.ts'
import { createCache } from '../../../src/cache/index.ts'
import { silentLogger } from '../../../src/config/logger.ts'
import { cacheContract } from '../../helpers/cache-contract.ts'

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
