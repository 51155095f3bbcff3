// Degradation paths on the memory backend behind ResilientBackend + ChaosBackend (no server): strict mode,
// bounded stalls, one warning per outage, L1 kept during an outage and cleared on recovery.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ChaosBackend } from '../../../src/cache/backends/chaos.ts'
import { MemoryBackend } from '../../../src/cache/backends/memory.ts'
import { ResilientBackend } from '../../../src/cache/backends/resilient.ts'
import { CircuitOpenError, RedisTimeoutError, RedisUnavailableError } from '../../../src/redis/errors.ts'
import { SerializationError } from '../../../src/cache/errors.ts'
import { createCache } from '../../../src/cache/index.ts'
import { silentLogger } from '../../../src/config/logger.ts'
import { sleep, waitFor } from '../../helpers/wait.ts'
import { capturingLogger, outageWarnings, type LogLine } from '../../helpers/capture-logger.ts'

function chaosStore(): { chaos: ChaosBackend; backend: ResilientBackend; memory: MemoryBackend } {
  const memory = new MemoryBackend()
  const chaos = new ChaosBackend(memory)
  const backend = new ResilientBackend(chaos, { timeout: 100, breaker: { failureThreshold: 3, openFor: 200 }, logger: silentLogger })
  return { chaos, backend, memory }
}

void test('non-strict: a failing store reads as a miss, skips writes, warns once per outage, recovers by itself', async () => {
  const { chaos, backend, memory } = chaosStore()
  const lines: LogLine[] = []
  const cache = await createCache({ backend, logger: capturingLogger(lines) })
  await cache.set('k', 'v')
  chaos.alwaysThrow()
  assert.equal(await cache.get('k'), undefined)
  assert.equal(await cache.getOrSet('k', () => 'from source'), 'from source')
  assert.deepEqual(await cache.getMany(['k', 'j']), [undefined, undefined])
  assert.equal(await cache.set('k', 'new'), false)
  assert.equal(await cache.exists('k'), false)
  assert.equal(await cache.ttl('k'), undefined)
  assert.equal(await cache.invalidatePattern('*'), 0)
  assert.equal(await cache.invalidateTags(['t']), 0)
  assert.equal(await cache.increment('n'), undefined)
  assert.equal(outageWarnings(lines).length, 1)
  assert.equal(backend.state, 'open')
  assert.equal((await cache.health()).status, 'degraded')
  const stats = cache.stats()['cache']!
  assert.ok(stats.errors >= 9 && stats.misses >= 3, JSON.stringify(stats))

  chaos.heal()
  await waitFor(async () => (await cache.set('k', 'back')) === true, 'the breaker to let a probe through', 5000)
  assert.equal(await cache.get('k'), 'back')
  assert.ok(lines.some((line) => line.level === 'info' && line.msg.startsWith('cache store recovered')))
  chaos.alwaysThrow()
  await cache.get('k')
  assert.equal(outageWarnings(lines).length, 2, 'a new outage warns again')
  await cache.close()
  await memory.close()
})

void test('a stalled store: calls return within the timeout', async () => {
  const { chaos, backend, memory } = chaosStore()
  const cache = await createCache({ backend, logger: silentLogger })
  chaos.alwaysStall()
  const started = Date.now()
  const results = await Promise.all([cache.get('a'), cache.getOrSet('b', () => 1), cache.set('c', 1), cache.delete('d'), cache.health()])
  assert.deepEqual(results.slice(0, 4), [undefined, 1, false, false])
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms with a 100 ms timeout`)
  chaos.heal()
  await cache.close()
  await memory.close()
})

void test('strict mode: store failures reach the caller as SkaldsErrors', async () => {
  const { chaos, backend, memory } = chaosStore()
  const cache = await createCache({ backend, strict: true, logger: silentLogger })
  chaos.alwaysThrow()
  await assert.rejects(cache.get('k'), RedisUnavailableError)
  await assert.rejects(cache.set('k', 1), RedisUnavailableError)
  await assert.rejects(cache.getOrSet('k', () => 1), RedisUnavailableError)
  await assert.rejects(cache.get('k'), CircuitOpenError)
  chaos.heal()
  await sleep(250)
  chaos.alwaysStall()
  await assert.rejects(cache.get('k'), RedisTimeoutError)
  chaos.heal()
  await assert.rejects(cache.set('k', 1n), SerializationError, 'bad input throws before the store is asked')
  await cache.close()
  await memory.close()
})

void test('L1 keeps serving during an outage and is cleared when the store recovers', async () => {
  const { chaos, backend, memory } = chaosStore()
  const cache = await createCache({ backend, l1: { maxEntries: 10 }, logger: silentLogger })
  await cache.set('k', 'v')
  chaos.alwaysThrow()
  assert.equal(await cache.get('k'), 'v', 'an L1 hit needs no store')
  assert.equal(await cache.get('other'), undefined)
  chaos.heal()
  await waitFor(async () => (await cache.set('probe', 1)) === true, 'recovery', 5000)
  assert.equal(cache.getSync('k'), undefined, 'L1 was cleared on recovery (evictions may have been missed)')
  assert.equal(await cache.get('k'), 'v')
  await cache.close()
  await memory.close()
})
