// The CacheService contract: every L2 (memory backend, Redis 8, Redis 7.0, Redis Cluster) runs these same tests.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { cached, type CacheOptions, type CacheService } from '../../src/cache/index.ts'
import { escapeGlob } from '../../src/redis/glob.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { SerializationError, ValueTooLargeError } from '../../src/cache/errors.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

/** Opens a cache on the target; every cache opened by one suite shares one global prefix (one "deployment"). */
export type OpenCache = (options?: CacheOptions) => Promise<CacheService>

export function cacheContract(target: string, open: OpenCache): void {
  void describe(`CacheService contract on ${target}`, () => {
    const opened: CacheService[] = []
    const make = async (options?: CacheOptions): Promise<CacheService> => {
      const cache = await open(options)
      opened.push(cache)
      return cache
    }
    after(async () => {
      for (const cache of opened) await cache.close()
    })

    void test('set / get / exists / delete, and a cached null', async () => {
      const cache = await make({ namespace: 'basic' })
      assert.equal(await cache.get('missing'), undefined)
      assert.equal(await cache.set('user:1', { name: 'Ada', tags: ['x'], n: 1.5 }), true)
      assert.deepEqual(await cache.get('user:1'), { name: 'Ada', tags: ['x'], n: 1.5 })
      assert.equal(await cache.exists('user:1'), true)
      await cache.set('nothing', null)
      assert.equal(await cache.get('nothing'), null)
      assert.equal(await cache.delete('user:1'), true)
      assert.equal(await cache.delete('user:1'), false)
      assert.equal(await cache.get('user:1'), undefined)
      assert.equal(await cache.exists('user:1'), false)
      assert.equal(await cache.deleteMany([]), 0)
    })

    void test('namespaces isolate keys and nest as parent:child, with their own stats', async () => {
      const root = await make({ namespace: 'ns' })
      const a = root.namespace('a')
      const b = root.namespace('b')
      assert.equal(a.name, 'ns:a')
      assert.equal(a.namespace('deep').name, 'ns:a:deep')
      await a.set('k', 'from a')
      await b.set('k', 'from b')
      assert.equal(await a.get('k'), 'from a')
      assert.equal(await b.get('k'), 'from b')
      assert.equal(await root.get('k'), undefined)
      await a.delete('k')
      assert.equal(await b.get('k'), 'from b')
      const stats = root.stats()
      assert.equal(stats['ns:a']!.hits, 1)
      assert.equal(stats['ns:b']!.hits, 2)
      assert.equal(stats['ns']!.misses, 1)
      assert.equal(stats['ns:b']!.hitRate, 1)
    })

    void test('TTLs: ttl() reports the remaining time, entries expire, expire() changes it', async () => {
      const cache = await make({ namespace: 'ttl' })
      await cache.set('short', 1, { ttl: 300 })
      const left = await cache.ttl('short')
      assert.ok(typeof left === 'number' && left > 0 && left <= 300, `ttl ${left}`)
      await waitFor(async () => (await cache.get('short')) === undefined, 'short to expire')
      assert.equal(await cache.ttl('short'), undefined)
      await cache.set('long', 1, { ttl: '1h' })
      assert.equal(await cache.expire('long', '200ms'), true)
      const shortened = await cache.ttl('long')
      assert.ok(typeof shortened === 'number' && shortened <= 200, `ttl ${shortened}`)
      await waitFor(async () => !(await cache.exists('long')), 'long to expire after expire()')
      assert.equal(await cache.expire('long', '1m'), false)
    })

    void test('TTL jitter spreads expiries within ±percentage', async () => {
      const cache = await make({ namespace: 'jitter', jitter: 20 })
      const ttls: number[] = []
      for (let i = 0; i < 30; i++) {
        await cache.set(`k${i}`, i, { ttl: '100s' })
        ttls.push((await cache.ttl(`k${i}`)) as number)
      }
      for (const ttl of ttls) assert.ok(ttl >= 79_000 && ttl <= 120_000, `ttl ${ttl} outside ±20% of 100s`)
      assert.ok(new Set(ttls.map((t) => Math.round(t / 1000))).size > 3, 'jittered TTLs should differ')
    })

    void test('counters: increment / decrement, TTL set when the counter is created', async () => {
      const cache = await make({ namespace: 'counter' })
      assert.equal(await cache.increment('hits', 1, { ttl: '10s' }), 1)
      assert.equal(await cache.increment('hits', 5, { ttl: '1h' }), 6)
      assert.equal(await cache.decrement('hits'), 5)
      const ttl = await cache.ttl('hits')
      assert.ok(typeof ttl === 'number' && ttl <= 10_000, `the first increment's TTL stays (${ttl})`)
      assert.equal(await cache.get('hits'), 5)
      await cache.set('text', 'abc')
      await assert.rejects(cache.increment('text'), /integer/)
      await assert.rejects(cache.increment('hits', 1.5), InvalidArgumentError)
    })

    void test('getMany / setMany: one call each, results in order', async () => {
      const cache = await make({ namespace: 'many' })
      const keys = Array.from({ length: 40 }, (_, i) => `item:${i}`)
      await cache.setMany(keys.filter((_, i) => i % 2 === 0).map((key, i) => ({ key, value: { i }, ttl: '1m' })))
      const values = await cache.getMany<{ i: number }>(keys)
      assert.equal(values.length, 40)
      values.forEach((value, i) => {
        if (i % 2 === 0) assert.deepEqual(value, { i: i / 2 })
        else assert.equal(value, undefined)
      })
      assert.equal(await cache.deleteMany(keys), 20)
    })

    void test('getOrSet runs the factory once for concurrent misses, then serves the cached value', async () => {
      const cache = await make({ namespace: 'gos' })
      let calls = 0
      const factory = async (): Promise<{ v: number }> => {
        calls++
        await sleep(50)
        return { v: 42 }
      }
      const results = await Promise.all(Array.from({ length: 25 }, () => cache.getOrSet('hot', factory, { ttl: '1m' })))
      assert.equal(calls, 1)
      for (const result of results) assert.deepEqual(result, { v: 42 })
      assert.deepEqual(await cache.getOrSet('hot', factory), { v: 42 })
      assert.equal(calls, 1)
      assert.deepEqual(await cache.get('hot'), { v: 42 })
    })

    void test('getOrSet: factory errors reach every caller and nothing is cached', async () => {
      const cache = await make({ namespace: 'gos-error' })
      let calls = 0
      const failing = async (): Promise<number> => {
        calls++
        await sleep(10)
        throw new Error('database down')
      }
      const results = await Promise.allSettled([cache.getOrSet('k', failing), cache.getOrSet('k', failing)])
      assert.equal(calls, 1)
      for (const result of results) assert.equal(result.status, 'rejected')
      assert.equal(await cache.exists('k'), false)
      assert.equal(await cache.getOrSet('k', () => 7), 7)
    })

    void test('null results are cached for nullTtl (penetration); nullTtl 0 disables it', async () => {
      const cache = await make({ namespace: 'nulls', nullTtl: '300ms' })
      let calls = 0
      const lookup = (): null => {
        calls++
        return null
      }
      assert.equal(await cache.getOrSet('absent', lookup, { ttl: '1h' }), null)
      assert.equal(await cache.getOrSet('absent', lookup), null)
      assert.equal(calls, 1)
      const ttl = await cache.ttl('absent')
      assert.ok(typeof ttl === 'number' && ttl <= 300, `null entries use nullTtl, got ${ttl}`)
      await waitFor(async () => !(await cache.exists('absent')), 'the null entry to expire')
      await cache.getOrSet('absent', lookup)
      assert.equal(calls, 2)
      assert.equal(await cache.getOrSet('never', () => undefined, { nullTtl: 0 }), undefined)
      assert.equal(await cache.exists('never'), false)
    })

    void test('stale-while-revalidate: within grace the stale value is served and refreshed once in the background', async () => {
      const cache = await make({ namespace: 'swr' })
      assert.equal(await cache.getOrSet('v', () => 'old', { ttl: 100, grace: '1h' }), 'old')
      await sleep(150)
      assert.equal(await cache.get('v'), undefined, 'get() sees only fresh values')
      let refreshes = 0
      const refresh = async ({ stale }: { stale: unknown }): Promise<string> => {
        refreshes++
        assert.equal(stale, 'old')
        await sleep(30)
        return 'new'
      }
      const served = await Promise.all([cache.getOrSet('v', refresh, { ttl: '1m', grace: '1h' }), cache.getOrSet('v', refresh, { ttl: '1m', grace: '1h' })])
      assert.deepEqual(served, ['old', 'old'])
      await waitFor(async () => (await cache.get('v')) === 'new', 'the background refresh')
      assert.equal(refreshes, 1)
      assert.ok(cache.stats()['swr']!.staleHits >= 1)
      const physical = await cache.ttl('v')
      assert.ok(typeof physical === 'number' && physical > 60_000, 'the stored TTL is ttl + grace')
    })

    void test('writeThrough writes, caches the result and invalidates patterns and tags', async () => {
      const cache = await make({ namespace: 'wt' })
      await cache.set('list:page:1', ['a'])
      await cache.set('list:page:2', ['b'])
      await cache.set('summary', 'x', { tags: ['user:1'] })
      const db = new Map<string, unknown>()
      const saved = await cache.writeThrough(
        'user:1',
        async () => {
          await sleep(5)
          db.set('user:1', { name: 'Grace' })
          return db.get('user:1')
        },
        { ttl: '1m', invalidatePatterns: ['list:*'], invalidateTags: ['user:1'] },
      )
      assert.deepEqual(saved, { name: 'Grace' })
      assert.deepEqual(await cache.get('user:1'), { name: 'Grace' })
      assert.equal(await cache.exists('list:page:1'), false)
      assert.equal(await cache.exists('list:page:2'), false)
      assert.equal(await cache.exists('summary'), false)
      await assert.rejects(cache.writeThrough('user:2', () => Promise.reject(new Error('write failed'))), /write failed/)
      assert.equal(await cache.exists('user:2'), false)
    })

    void test('invalidatePattern deletes matches only; escaped user input matches literally', async () => {
      const cache = await make({ namespace: 'pattern' })
      await cache.setMany([
        { key: 'user:1:a', value: 1 },
        { key: 'user:1:b', value: 2 },
        { key: 'user:2:a', value: 3 },
        { key: 'q:*star', value: 4 },
        { key: 'q:xstar', value: 5 },
        { key: 'q:[ab]', value: 6 },
        { key: 'q:a', value: 7 },
      ])
      assert.equal(await cache.invalidatePattern('user:1:*'), 2)
      assert.equal(await cache.get('user:2:a'), 3)
      assert.equal(await cache.invalidatePattern(`q:${escapeGlob('*star')}`), 1)
      assert.equal(await cache.get('q:xstar'), 5)
      assert.equal(await cache.invalidatePattern(`q:${escapeGlob('[ab]')}`), 1)
      assert.equal(await cache.get('q:a'), 7)
      await assert.rejects(cache.invalidatePattern(''), InvalidArgumentError)
    })

    void test('invalidateTags deletes every key set with the tags', async () => {
      const cache = await make({ namespace: 'tags' })
      await cache.set('p:1', 1, { tags: ['project:1'] })
      await cache.set('p:1:stats', 2, { tags: ['project:1', 'stats'] })
      await cache.set('p:2', 3, { tags: ['project:2'] })
      await cache.getOrSet('p:1:list', () => [1], { tags: ['project:1'] })
      assert.deepEqual(await cache.get('p:1:stats'), 2, 'a tagged value reads back as itself')
      assert.equal(await cache.invalidateTags(['project:1']), 3)
      assert.equal(await cache.exists('p:1'), false)
      assert.equal(await cache.exists('p:1:stats'), false)
      assert.equal(await cache.exists('p:1:list'), false)
      assert.equal(await cache.get('p:2'), 3)
      assert.equal(await cache.invalidateTags(['project:1']), 0)
    })

    void test('bad input: unserializable, oversized, empty key, bad options → clear errors, nothing written', async () => {
      const cache = await make({ namespace: 'bad', maxValueBytes: 1000 })
      await assert.rejects(cache.set('big', 10n), SerializationError)
      const circular: Record<string, unknown> = {}
      circular.self = circular
      await assert.rejects(cache.set('circular', circular), SerializationError)
      await assert.rejects(cache.set('fn', () => 1), SerializationError)
      await assert.rejects(cache.set('undef', undefined), SerializationError)
      await assert.rejects(cache.set('large', 'x'.repeat(1001)), ValueTooLargeError)
      await assert.rejects(cache.set('large-utf8', '€'.repeat(400)), ValueTooLargeError)
      await assert.rejects(cache.getOrSet('from-factory', () => 5n), SerializationError)
      for (const key of ['big', 'circular', 'fn', 'undef', 'large', 'large-utf8', 'from-factory']) assert.equal(await cache.exists(key), false, key)
      await assert.rejects(cache.setMany([{ key: 'ok', value: 1 }, { key: 'bad', value: 1n }]), SerializationError)
      assert.equal(await cache.exists('ok'), false, 'setMany validates every value before writing')
      assert.throws(() => cache.get(''), InvalidArgumentError)
      assert.throws(() => cache.getOrSet('', () => 1), InvalidArgumentError)
      await assert.rejects(cache.set('', 1), InvalidArgumentError)
      await assert.rejects(cache.set('__lock:x', 1), InvalidArgumentError)
      await assert.rejects(cache.set('k', 1, { ttl: 0 }), /ttl/)
      await assert.rejects(cache.set('k', 1, { ttl: '5 parsecs' as never }), /ttl/)
      await assert.rejects(cache.set('k', 1, { jitter: 150 }), /jitter/)
      assert.throws(() => cache.namespace('a*'), /glob/)
    })

    void test('cached() wraps an async function with a key function', async () => {
      const cache = await make({ namespace: 'cached' })
      let calls = 0
      const getUser = cached(
        async (id: string) => {
          calls++
          await sleep(10)
          return { id, name: `user ${id}` }
        },
        { cache, key: (id) => `user:${id}`, ttl: '5m' },
      )
      const [a, b] = await Promise.all([getUser('1'), getUser('1')])
      assert.deepEqual(a, { id: '1', name: 'user 1' })
      assert.deepEqual(b, a)
      await getUser('1')
      await getUser('2')
      assert.equal(calls, 2)
      assert.deepEqual(await cache.get('user:2'), { id: '2', name: 'user 2' })
      assert.equal(await getUser.invalidate('1'), true)
      await getUser('1')
      assert.equal(calls, 3)
    })

    void test('L1 over L2: hits from process memory; writes in one instance evict L1 copies in the other', async () => {
      const a = await make({ namespace: 'l1', l1: { maxEntries: 100, ttl: '1h' } })
      const b = await make({ namespace: 'l1', l1: { maxEntries: 100, ttl: '1h' } })
      // b reads until it holds the key in L1: a's own eviction message for the write may still be on its way and
      // (correctly) evict the first copy b reads.
      const holds = (key: string, value: unknown) => waitFor(async () => (await b.get(key)) === value && b.getSync(key) === value, `b to hold ${key} in L1`)
      await a.set('k', 'v1', { tags: ['t'] })
      await holds('k', 'v1')
      await a.set('k', 'v2')
      await waitFor(() => b.getSync('k') === undefined, 'b to evict k after a.set')
      assert.equal(await b.get('k'), 'v2')
      await a.delete('k')
      await waitFor(() => b.getSync('k') === undefined, 'b to evict k after a.delete')
      assert.equal(await b.get('k'), undefined)

      await a.set('page:1', 1)
      await a.set('tagged', 2, { tags: ['group'] })
      await holds('page:1', 1)
      await holds('tagged', 2)
      await a.invalidatePattern('page:*')
      await waitFor(() => b.getSync('page:1') === undefined, 'b to evict page:1 after a pattern invalidation')
      await a.invalidateTags(['group'])
      await waitFor(() => b.getSync('tagged') === undefined, 'b to evict tagged after a tag invalidation')
      assert.equal(await b.get('tagged'), undefined)

      // A locally written L1 copy never outlives the entry's own TTL (l1.ttl is 1h here). Only getSync is polled: a
      // get() in the instant between the L1 copy's end and the L2 entry's would re-fill L1 from L2, for up to l1.ttl
      // (an L2 read does not learn the remaining TTL; see docs/cache.md).
      await a.set('short', 'soon gone', { ttl: 300 })
      assert.equal(a.getSync('short'), 'soon gone')
      await waitFor(() => a.getSync('short') === undefined, 'the L1 copy to expire with its entry')
      const plain = await make({ namespace: 'l1' })
      await waitFor(async () => (await plain.get('short')) === undefined, 'the L2 entry to expire')
    })

    void test('statistics: key counts per namespace, memory, counters; health', async () => {
      const cache = await make({ namespace: 'statistics' })
      const child = cache.namespace('child')
      await cache.set('a', 1)
      await child.set('b', 2)
      await child.set('c', 3)
      await child.get('b')
      const statistics = await cache.statistics()
      assert.equal(statistics.namespaces['statistics:child']!.keys, 2)
      assert.equal(statistics.namespaces['statistics']!.keys, 3)
      assert.ok((statistics.memory.usedBytes ?? 0) > 0)
      assert.equal(statistics.stats['statistics:child']!.hits, 1)
      const health = await cache.health()
      assert.equal(health.status, 'healthy')
      assert.equal(health.breaker, 'closed')
      assert.ok(typeof health.latencyMs === 'number')
    })
  })
}
