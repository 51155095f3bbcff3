// The L1 LRU, the stored-entry envelope and the slow-operation log.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sleep } from '../../helpers/wait.ts'
import { SerializationError } from '../../../src/cache/errors.ts'
import { hasHeader, openEnvelope, sealEnvelope } from '../../../src/cache/service/envelope.ts'
import { L1Cache } from '../../../src/cache/service/l1.ts'
import { SlowLog, StatsRegistry } from '../../../src/cache/service/stats.ts'
import { capturingLogger, type LogLine } from '../../helpers/capture-logger.ts'

void test('L1 evicts past maxEntries, sparing recently read entries (CLOCK)', () => {
  const l1 = new L1Cache({ maxEntries: 3, maxTtlMs: 60_000 })
  const space = l1.space('p:')
  space.set('a', 1, 60_000, undefined)
  space.set('b', 2, 60_000, undefined)
  space.set('c', 3, 60_000, undefined)
  assert.equal(space.get('a')?.value, 1) // a is read: it gets a second chance
  space.set('d', 4, 60_000, undefined)
  assert.equal(space.get('b'), undefined, 'b was the oldest unread entry')
  assert.deepEqual(['a', 'c', 'd'].map((k) => space.get(k)?.value), [1, 3, 4])
  assert.equal(l1.size, 3)
  for (let i = 0; i < 1000; i++) space.set(`k${i}`, i, 60_000, undefined)
  assert.equal(l1.size, 3, 'the bound holds under churn')
  assert.equal(space.get('k999')?.value, 999)
})

void test('L1 entries expire at min(ttl, maxTtl)', async () => {
  const l1 = new L1Cache({ maxEntries: 10, maxTtlMs: 50 })
  const space = l1.space('p:')
  space.set('capped', 1, 60_000, undefined)
  space.set('short', 2, 20, undefined)
  space.set('zero', 3, 0, undefined)
  assert.equal(space.get('zero'), undefined)
  await sleep(80)
  assert.equal(space.get('capped'), undefined)
  assert.equal(space.get('short'), undefined)
  assert.equal(l1.size, 0)
})

void test('L1 evicts by full key (in parent and child namespaces), pattern and tag', () => {
  const l1 = new L1Cache({ maxEntries: 10, maxTtlMs: 60_000 })
  const parent = l1.space('p:')
  const child = l1.space('p:user:')
  parent.set('user:1', 1, 60_000, ['p:__tag:a'])
  child.set('2', 2, 60_000, ['p:__tag:a', 'p:__tag:b'])
  parent.set('page:1', 3, 60_000, ['p:__tag:b'])
  parent.fill('x', 0, 60_000, undefined)
  assert.equal(l1.deleteMatching(/^p:user:1$/), 1)
  assert.equal(l1.deleteTags(['p:__tag:b']), 2)
  assert.equal(l1.size, 1)
  parent.set('user:3', 'parent copy', 60_000, undefined)
  child.set('3', 'child copy', 60_000, undefined)
  assert.equal(parent.get('user:3'), undefined, 'a write through the child evicts the parent alias of the same stored key')
  assert.equal(l1.delete('p:user:3'), true)
  assert.equal(child.get('3'), undefined)
  parent.set('t', 1, 60_000, ['p:__tag:a'])
  parent.set('t', 2, 60_000, undefined) // re-set without the tag: the tag must no longer evict it
  assert.equal(l1.deleteTags(['p:__tag:a']), 0)
  assert.equal(parent.get('t')?.value, 2)
})

void test('an L2 read in flight may fill L1 unless its key was written or evicted meanwhile', () => {
  const l1 = new L1Cache({ maxEntries: 10, maxTtlMs: 60_000 })
  const space = l1.space('p:')
  l1.beginRead('p:a')
  l1.beginRead('p:b')
  l1.beginRead('p:c')
  space.fill('z', 1, 60_000, undefined) // fills touch nothing
  space.set('b', 2, 60_000, undefined) // a write of b in this process
  l1.delete('p:c') // an eviction message for c
  assert.equal(l1.endRead('p:a'), true)
  assert.equal(l1.endRead('p:b'), false)
  assert.equal(l1.endRead('p:c'), false)
  l1.beginRead('p:c')
  assert.equal(l1.endRead('p:c'), true, 'a later read of c is clean again')
  l1.beginRead('p:d')
  l1.deleteMatching(/^p:d$/)
  assert.equal(l1.endRead('p:d'), false)
  l1.beginRead('p:e')
  l1.deleteTags(['p:__tag:any'])
  assert.equal(l1.endRead('p:e'), false, 'tag evictions make every read in flight suspect')
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
  const lines: LogLine[] = []
  const slow = new SlowLog(10, capturingLogger(lines), 3)
  for (let i = 0; i < 5; i++) slow.record('get', `k${i}`, 20 + i)
  assert.deepEqual(slow.entries().map((e) => e.key), ['k2', 'k3', 'k4'])
  assert.equal(slow.count, 5)
  assert.equal(lines.filter((l) => l.msg === 'slow cache operation').length, 1, 'a burst of slow calls logs one line')
})
