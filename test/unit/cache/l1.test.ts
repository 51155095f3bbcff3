// The L1 LRU, the stored-entry envelope and the slow-operation log.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SerializationError } from '../../../src/cache/errors.ts'
import { hasHeader, openEnvelope, sealEnvelope } from '../../../src/cache/service/envelope.ts'
import { L1Cache } from '../../../src/cache/service/l1.ts'
import { SlowLog, StatsRegistry } from '../../../src/cache/service/stats.ts'
import { silentLogger } from '../../../src/config/logger.ts'

void test('L1 evicts the least recently used entry past maxEntries', () => {
  const l1 = new L1Cache({ maxEntries: 3, maxTtlMs: 60_000 })
  l1.set('a', 1, 60_000, undefined)
  l1.set('b', 2, 60_000, undefined)
  l1.set('c', 3, 60_000, undefined)
  assert.equal(l1.get('a')?.value, 1) // a is now the most recent
  l1.set('d', 4, 60_000, undefined)
  assert.equal(l1.get('b'), undefined, 'b was the least recently used')
  assert.deepEqual(['a', 'c', 'd'].map((k) => l1.get(k)?.value), [1, 3, 4])
  assert.equal(l1.size, 3)
})

void test('L1 entries expire at min(ttl, maxTtl)', async () => {
  const l1 = new L1Cache({ maxEntries: 10, maxTtlMs: 50 })
  l1.set('capped', 1, 60_000, undefined)
  l1.set('short', 2, 20, undefined)
  l1.set('zero', 3, 0, undefined)
  assert.equal(l1.get('zero'), undefined)
  await sleep(80)
  assert.equal(l1.get('capped'), undefined)
  assert.equal(l1.get('short'), undefined)
  assert.equal(l1.size, 0)
})

void test('L1 evicts by pattern and by tag, and bumps its epoch on every eviction', () => {
  const l1 = new L1Cache({ maxEntries: 10, maxTtlMs: 60_000 })
  l1.set('p:user:1', 1, 60_000, ['p:__tag:a'])
  l1.set('p:user:2', 2, 60_000, ['p:__tag:a', 'p:__tag:b'])
  l1.set('p:page:1', 3, 60_000, ['p:__tag:b'])
  const epoch = l1.epoch
  assert.equal(l1.deleteMatching(/^p:user:1$/), 1)
  assert.ok(l1.epoch > epoch)
  assert.equal(l1.deleteTags(['p:__tag:b']), 2)
  assert.equal(l1.size, 0)
  l1.set('p:x', 1, 60_000, ['p:__tag:a'])
  l1.set('p:x', 2, 60_000, undefined) // re-set without the tag: the tag must no longer evict it
  assert.equal(l1.deleteTags(['p:__tag:a']), 0)
  assert.equal(l1.get('p:x')?.value, 2)
})

void test('envelope: plain values stay plain; headers carry logical expiry and tags', () => {
  assert.equal(sealEnvelope('{"a":1}', undefined, undefined), '{"a":1}')
  assert.equal(hasHeader('{"a":1}'), false)
  const sealed = sealEnvelope('"v"', 1_700_000_000_000, ['x', 'y:z'])
  assert.equal(hasHeader(sealed), true)
  assert.deepEqual(openEnvelope(sealed, 'k'), { payload: '"v"', staleAt: 1_700_000_000_000, tags: ['x', 'y:z'] })
  assert.deepEqual(openEnvelope(sealEnvelope('1', undefined, ['t']), 'k'), { payload: '1', staleAt: Infinity, tags: ['t'] })
  assert.deepEqual(openEnvelope(sealEnvelope('"\u0001"', 5, undefined), 'k'), { payload: '"\u0001"', staleAt: 5, tags: undefined })
  assert.throws(() => openEnvelope('\u0001garbage', 'k'), SerializationError)
  assert.throws(() => openEnvelope('\u0001abc\u0001\u0001x', 'k'), SerializationError)
})

void test('stats: hit rate per namespace; the slow log keeps the most recent entries', () => {
  const stats = new StatsRegistry()
  const c = stats.counters('a')
  c.hits += 3
  c.misses += 1
  assert.equal(stats.snapshot().a!.hitRate, 0.75)
  assert.equal(stats.counters('a'), c)
  const slow = new SlowLog(10, silentLogger, 3)
  for (let i = 0; i < 5; i++) slow.record('get', `k${i}`, 20 + i)
  assert.deepEqual(slow.entries().map((e) => e.key), ['k2', 'k3', 'k4'])
})
