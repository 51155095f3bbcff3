// The task caches on real Redis, as two controllers (two RedisConnections, two stores on one SQLite file, one key
// prefix): a change recorded through one is never read stale through the other, on every Redis flavour; the keys stay
// out of Skalds' wire keys; the L1 variant; a late write of the other controller dropped by the second invalidation;
// cacheStats on Redis. The Redis-down fallback is in controller-task-caches-outage.test.ts.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { createCache, type CacheService, type L1Config } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createTaskCaches, type TaskCaches, type TaskCachesOptions } from '../../src/controller/index.ts'
import { taskKey } from '../../src/controller/task-cache/keys.ts'
import type { RedisConnection } from '../../src/redis/connection.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import type { TaskStore } from '../../src/store/index.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { redisTargets, uniquePrefix, type RedisTarget } from '../helpers/servers.ts'
import { waitFor } from '../helpers/wait.ts'

const dir = mkdtempSync(join(tmpdir(), 'skalds-task-cache-it-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Controller {
  connection: RedisConnection
  cache: CacheService
  store: SqliteTaskStore
  caches: TaskCaches
}

interface Pair {
  a: Controller
  b: Controller
  prefix: string
  close(): Promise<void>
}

/** Two controllers on one Redis (one key prefix) and one SQLite file. */
async function pair(target: RedisTarget, options: { l1?: L1Config; a?: Partial<TaskCachesOptions>; b?: Partial<TaskCachesOptions> } = {}): Promise<Pair> {
  const prefix = uniquePrefix(`task-caches-${target.name}`)
  const path = join(dir, `${prefix.replaceAll(':', '_')}.db`)
  const open = async (own: Partial<TaskCachesOptions> | undefined): Promise<Controller> => {
    const connection = await connectTarget(target, prefix)
    const cache = await createCache({ redis: connection, logger: silentLogger, ...(options.l1 ? { l1: options.l1 } : {}) })
    const store = SqliteTaskStore.open({ path })
    const caches = createTaskCaches({ store, cache, connection, logger: silentLogger, ...own })
    return { connection, cache, store, caches }
  }
  const a = await open(options.a)
  const b = await open(options.b)
  return {
    a,
    b,
    prefix,
    close: async () => {
      await deleteKeysWithPrefix(a.connection, prefix)
      for (const c of [a, b]) {
        await c.caches.stop()
        await c.cache.close()
        await c.connection.close()
        await c.store.close()
      }
    },
  }
}

async function seed(store: TaskStore): Promise<void> {
  await store.create({ id: 'a', className: 'Crawl', source: 'API', executor: 'skald-1', lifecycleStatus: 'Running', createDateTime: 1000 })
  await store.create({ id: 'b', className: 'Index', source: 'API', executor: 'skald-2', lifecycleStatus: 'Running', createDateTime: 2000 })
}

/** Everything B shows about task `a`, read through its caches. */
async function view(c: Controller): Promise<Record<string, unknown>> {
  const [task, progress, execution, statistics, list, skald1, skald2] = await Promise.all([
    c.caches.task('a'),
    c.caches.progress('a'),
    c.caches.execution('a'),
    c.caches.statistics(),
    c.caches.list({ lifecycleStatus: ['Running', 'Finished'], sort: { field: 'id' } }),
    c.caches.skaldTasks('skald-1'),
    c.caches.skaldTasks('skald-2'),
  ])
  return {
    status: task?.lifecycleStatus,
    executor: task?.executor,
    attachments: task?.attachments,
    progressStatus: progress?.lifecycleStatus,
    executionStatus: execution?.lifecycleStatus,
    finished: statistics.byStatus.Finished,
    listed: list.items.map((t) => `${t.id}:${t.lifecycleStatus}`),
    skald1: skald1.items.map((t) => t.id),
    skald2: skald2.items.map((t) => t.id),
  }
}

for (const target of redisTargets()) {
  void test(`${target.name}: a change recorded through one controller is never read stale through the other`, async () => {
    const p = await pair(target)
    try {
      await seed(p.a.store)
      assert.deepEqual(await view(p.b), {
        status: 'Running', executor: 'skald-1', attachments: null, progressStatus: 'Running', executionStatus: 'Running',
        finished: 0, listed: ['a:Running', 'b:Running'], skald1: ['a'], skald2: ['b'],
      })
      const hits = (): number => p.b.cache.stats()['cache:skalds-task-cache:status']?.hits ?? 0
      const before = hits()
      await view(p.b)
      assert.ok(hits() > before, 'the second view is read from the cache')

      await p.a.store.update('a', { executor: 'skald-2' })
      assert.equal(await p.a.caches.changed({ id: 'a', kind: 'status', executor: 'skald-2', previousExecutor: 'skald-1' }), true)
      assert.deepEqual(await view(p.b), {
        status: 'Running', executor: 'skald-2', attachments: null, progressStatus: 'Running', executionStatus: 'Running',
        finished: 0, listed: ['a:Running', 'b:Running'], skald1: [], skald2: ['b', 'a'],
      })

      await p.a.store.update('a', { attachments: { url: 'x' } })
      await p.a.caches.changed({ id: 'a', kind: 'attachments', executor: 'skald-2', previousExecutor: 'skald-2' })
      assert.deepEqual((await view(p.b)).attachments, { url: 'x' })

      await p.a.store.update('a', { lifecycleStatus: 'Finished' })
      await p.a.caches.changed({ id: 'a', kind: 'status', executor: 'skald-2', previousExecutor: 'skald-2' })
      const finished = await view(p.b)
      assert.deepEqual([finished.status, finished.progressStatus, finished.executionStatus, finished.finished, finished.listed], ['Finished', 'Finished', 'Finished', 1, ['a:Finished', 'b:Running']])

      await p.a.store.create({ id: 'c', className: 'New', source: 'API', lifecycleStatus: 'Finished' })
      await p.a.caches.changed({ id: 'c', kind: 'created', executor: null })
      assert.equal((await p.b.caches.statistics()).byStatus.Finished, 2)
      assert.deepEqual((await p.b.caches.statistics()).classNames, ['Crawl', 'Index', 'New'])

      await p.a.store.delete('c')
      await p.a.caches.changed({ id: 'c', kind: 'deleted', executor: null })
      assert.equal((await p.b.caches.statistics()).total, 2)
      assert.equal(await p.b.caches.task('c'), null)

      // Manual: B's entries are dropped by A.
      await p.b.caches.task('b')
      await p.a.store.update('b', { lifecycleStatus: 'Paused' })
      await p.a.caches.invalidateTask('b')
      assert.equal((await p.b.caches.task('b'))?.lifecycleStatus, 'Paused')
      await p.a.store.update('b', { lifecycleStatus: 'Running' })
      await p.a.caches.invalidateAll()
      assert.equal((await p.b.caches.list({ lifecycleStatus: ['Running', 'Finished'], sort: { field: 'id' } })).items[1]?.lifecycleStatus, 'Running')

      // Every key is the task caches'; none is under Skalds' wire keys.
      await view(p.b)
      const keys: string[] = []
      for await (const batch of p.a.connection.scan(`${p.prefix}*`)) keys.push(...batch)
      assert.ok(keys.length >= 8, `${keys.length} keys`)
      for (const key of keys) {
        const relative = key.slice(p.prefix.length)
        assert.ok(relative.startsWith('cache:skalds-task-cache:'), key)
        assert.ok(!relative.startsWith('skalds:') && !relative.startsWith('task:'), key)
      }
    } finally {
      await p.close()
    }
  })
}

const [redis8] = redisTargets()

void test('with an L1 on both caches: the other controller’s copy is evicted through the cache’s broadcast', async () => {
  const p = await pair(redis8!, { l1: { ttl: '2s' } })
  try {
    await seed(p.a.store)
    assert.equal((await p.b.caches.task('a'))?.lifecycleStatus, 'Running')
    assert.equal((await p.b.caches.task('a'))?.lifecycleStatus, 'Running')
    await p.a.store.update('a', { lifecycleStatus: 'Finished' })
    await p.a.caches.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' })
    assert.equal((await p.a.caches.task('a'))?.lifecycleStatus, 'Finished', 'at once in the controller that recorded it')
    const started = performance.now()
    await waitFor(async () => (await p.b.caches.task('a'))?.lifecycleStatus === 'Finished', 'B’s L1 copy to be evicted', 1000, 1)
    assert.ok(performance.now() - started < 1000)
  } finally {
    await p.close()
  }
})

void test('a value the other controller read before the change and stored after it is dropped by the second invalidation', async () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let gated = true
  const p = await pair(redis8!, { a: { reinvalidateAfterMs: 300 }, b: { reinvalidateAfterMs: 0 } })
  try {
    await seed(p.a.store)
    // B's store answers from before the change, late.
    const slowStore = { ...(p.b.store as unknown as Record<string, unknown>) } as unknown as TaskStore
    const real = p.b.store
    slowStore.get = async (id: string) => {
      const row = await real.get(id)
      if (gated) await gate
      return row
    }
    const slowB = createTaskCaches({ store: slowStore, cache: p.b.cache, logger: silentLogger, reinvalidateAfterMs: 0, readTimeoutMs: 5000 })
    const late = slowB.task('a')
    await new Promise((resolve) => setTimeout(resolve, 50))
    await p.a.store.update('a', { lifecycleStatus: 'Failed' })
    assert.equal(await p.a.caches.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' }), true)
    gated = false
    release()
    assert.equal((await late)?.lifecycleStatus, 'Running')
    const status = p.a.cache.namespace('skalds-task-cache').namespace('status')
    assert.equal((await status.get<{ lifecycleStatus: string }>(taskKey('a')))?.lifecycleStatus, 'Running', 'B stored the pre-change row after A’s delete')
    await waitFor(async () => (await p.a.caches.task('a'))?.lifecycleStatus === 'Failed', 'the second invalidation to drop it', 3000)
    await slowB.stop()
  } finally {
    await p.close()
  }
})

void test('cacheStats on Redis: keys per type, used_memory, connection ready and breaker closed', async () => {
  const p = await pair(redis8!)
  try {
    await seed(p.a.store)
    await view(p.a)
    await view(p.a)
    const stats = await p.a.caches.cacheStats()
    assert.equal(stats.namespace, 'cache:skalds-task-cache')
    assert.deepEqual(
      Object.fromEntries(Object.entries(stats.types).map(([type, s]) => [type, s.keys])),
      // list and skaldTasks hold their tag set besides their entries
      { status: 1, progress: 1, statistics: 1, list: 2, skaldTasks: 3, execution: 1 },
    )
    assert.equal(stats.overall.keys, 9)
    assert.equal(stats.types.progress.hitRate, 0.5, 'one miss, one hit')
    // progress and execution read the task through the status cache on their miss: 3 misses (two joined the first), 1 hit
    assert.deepEqual([stats.types.status.hits, stats.types.status.misses, stats.types.status.hitRate], [1, 3, 0.25])
    assert.ok(stats.overall.hitRate > 0 && stats.overall.hitRate < 1)
    assert.ok((stats.memory.usedBytes ?? 0) > 0)
    assert.equal(stats.connection.backend, 'redis')
    assert.equal(stats.connection.status, 'healthy')
    assert.equal(stats.connection.breaker, 'closed')
    assert.equal(stats.connection.ready, true)
    assert.equal(typeof stats.connection.latencyMs, 'number')
  } finally {
    await p.close()
  }
})
