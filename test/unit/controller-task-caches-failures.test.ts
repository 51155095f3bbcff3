// The task caches when the cache misbehaves (ChaosBackend over the memory backend: stalls and outages), when the
// Skald state is unreadable or a value too large; the delayed second invalidation; cleanup; cacheStats.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ChaosBackend, createCache, MemoryBackend, type CacheService } from '../../src/cache/index.ts'
import { createTaskCaches, type TaskCaches, type TaskCachesOptions, type TaskCacheType } from '../../src/controller/index.ts'
import { listKey, taskKey, TYPE_NAMESPACE } from '../../src/controller/task-cache/keys.ts'
import type { SkaldStateReader } from '../../src/state/reader.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import { capturingLogger, outageWarnings, type LogLine } from '../helpers/capture-logger.ts'
import { waitFor } from '../helpers/wait.ts'

interface Fixture {
  store: SqliteTaskStore
  cache: CacheService
  chaos: ChaosBackend
  caches: TaskCaches
  lines: LogLine[]
  space(type: TaskCacheType): CacheService
  dispose(): Promise<void>
}

async function fixture(options: Partial<TaskCachesOptions> & { maxValueBytes?: number } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-task-cache-'))
  const store = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  await store.create({ id: 'a', className: 'Crawl', source: 'API', executor: 'skald-1', lifecycleStatus: 'Running' })
  const chaos = new ChaosBackend(new MemoryBackend())
  const lines: LogLine[] = []
  const logger = capturingLogger(lines)
  const { maxValueBytes, ...rest } = options
  const cache = await createCache({ backend: chaos, logger, ...(maxValueBytes === undefined ? {} : { maxValueBytes }) })
  const caches = createTaskCaches({ store, cache, logger, reinvalidateAfterMs: 0, ...rest })
  const root = cache.namespace('skalds-task-cache')
  return {
    store,
    cache,
    chaos,
    caches,
    lines,
    space: (type) => root.namespace(TYPE_NAMESPACE[type]),
    dispose: async () => {
      chaos.heal()
      await caches.stop()
      await cache.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  const value = await run()
  return [value, performance.now() - started]
}

void test('a stalled cache: reads answer from the store after readTimeoutMs; an invalidation gives up after invalidateTimeoutMs', async () => {
  const f = await fixture({ readTimeoutMs: 100, invalidateTimeoutMs: 300 })
  try {
    f.chaos.alwaysStall()
    const [task, ms] = await timed(() => f.caches.task('a'))
    assert.equal(task?.id, 'a')
    assert.ok(ms < 2000, `answered in ${ms} ms`)
    const [list] = await timed(() => f.caches.list())
    assert.equal(list.total, 1)
    const [confirmed, took] = await timed(() => f.caches.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' }))
    assert.equal(confirmed, false)
    assert.ok(took >= 250 && took < 2000, `gave up after ${took} ms`)
    assert.equal((await f.caches.task('a'))?.id, 'a')
    // Healed before cacheStats(): against a stalled store its key count would wait for its own bound.
    f.chaos.heal()
    const { counters } = await f.caches.cacheStats()
    assert.deepEqual({ readTimeouts: counters.readTimeouts, unconfirmed: counters.unconfirmed, bypassed: counters.bypassed }, { readTimeouts: 2, unconfirmed: 1, bypassed: 1 })
  } finally {
    await f.dispose()
  }
})

void test('an outage: reads answer from the store and never throw; an unconfirmed change makes reads bypass the cache until a flush; then caching resumes', async () => {
  const f = await fixture()
  try {
    assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Running')
    f.chaos.alwaysThrow()
    await f.store.update('a', { lifecycleStatus: 'Finished' })
    assert.equal(await f.caches.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' }), false)
    for (let i = 0; i < 5; i++) {
      assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Finished')
      assert.equal((await f.caches.statistics()).byStatus.Finished, 1)
    }
    const during = await f.caches.cacheStats()
    assert.equal(during.bypassing, true)
    assert.equal(during.counters.bypassed, 10)
    assert.equal(during.counters.unconfirmed, 1)
    assert.equal(outageWarnings(f.lines).length, 1, 'the cache layer warns once per outage')
    assert.equal(f.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('task caches: an invalidation was not confirmed')).length, 1)

    f.chaos.heal()
    // The stale entry is still in the cache; no read may see it: the flush (retried every second) comes first.
    assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Finished')
    await waitFor(async () => !(await f.caches.cacheStats()).bypassing, 'the flush to end the bypass', 10_000)
    assert.equal(await f.space('status').exists(taskKey('a')), false, 'the flush dropped the stale entry')
    assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Finished')
    const before = f.cache.stats()[f.space('status').name]!.hits
    assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Finished')
    assert.equal(f.cache.stats()[f.space('status').name]!.hits, before + 1, 'caching resumed')
    assert.equal((await f.caches.cacheStats()).counters.flushes, 1)
  } finally {
    await f.dispose()
  }
})

void test('a value too large for the cache is answered uncached, warned once per type', async () => {
  const f = await fixture({ maxValueBytes: 300 })
  try {
    for (let i = 0; i < 3; i++) assert.equal((await f.caches.list()).items[0]?.id, 'a')
    assert.equal(await f.space('list').exists(listKey({})), false)
    assert.equal((await f.caches.cacheStats()).counters.uncached, 3)
    assert.equal(f.lines.filter((l) => l.msg.startsWith('task caches: a value could not be cached')).length, 1)
  } finally {
    await f.dispose()
  }
})

void test('an unreadable Skald state: the view is answered with state "unavailable" and not cached', async () => {
  let failing = true
  let reads = 0
  const state = {
    task: (taskId: string) => {
      reads++
      if (failing) return Promise.reject(new Error('state down'))
      return Promise.resolve({ taskId, heartbeat: 5, heartbeatPresent: true, heartbeatTtlMs: 1000, exception: undefined, hasError: undefined, progress: undefined, checkpoint: undefined, log: [] })
    },
  } as unknown as SkaldStateReader
  const f = await fixture({ state })
  try {
    assert.equal((await f.caches.progress('a'))?.state, 'unavailable')
    assert.equal((await f.caches.execution('a'))?.heartbeat, null)
    assert.equal(await f.space('progress').exists(taskKey('a')), false)
    failing = false
    assert.equal((await f.caches.execution('a'))?.heartbeat?.value, 5)
    assert.equal((await f.caches.execution('a'))?.state, 'read')
    assert.equal(reads, 3, 'read again once it answered, then cached')
    assert.equal(f.lines.filter((l) => l.msg.startsWith('task caches: the Skald state is unreadable')).length, 1)
  } finally {
    await f.dispose()
  }
})

void test('reinvalidateAfterMs: a value another controller stored after the change is dropped again', async () => {
  const f = await fixture({ reinvalidateAfterMs: 50 })
  try {
    await f.caches.task('a')
    assert.equal(await f.caches.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' }), true)
    // What a slower read of another controller would leave behind: the row as it was before the change.
    await f.space('status').set(taskKey('a'), { id: 'a', lifecycleStatus: 'Running' })
    await f.space('list').set(listKey({}), { items: [], total: 0, offset: 0, limit: 100 }, { tags: ['pages'] })
    await waitFor(async () => !(await f.space('status').exists(taskKey('a'))) && !(await f.space('list').exists(listKey({}))), 'the second invalidation', 5000)
  } finally {
    await f.dispose()
  }
})

void test('cleanup: drops list pages no change dropped for an interval, logs statistics; startCleanup runs it, stop ends it', async () => {
  const f = await fixture({ cleanupIntervalMs: 40 })
  try {
    await f.caches.list()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const report = await f.caches.cleanup()
    assert.equal(report.droppedListPages, true)
    assert.equal(report.flush, 'none')
    assert.equal(await f.space('list').exists(listKey({})), false)
    assert.ok(f.lines.some((l) => l.level === 'info' && l.msg === 'task caches: statistics'))
    await f.caches.list()
    assert.equal((await f.caches.cleanup()).droppedListPages, false, 'dropped less than an interval ago')

    f.caches.startCleanup()
    f.caches.startCleanup()
    await waitFor(async () => !(await f.space('list').exists(listKey({}))), 'the cleanup job', 5000)
    await f.caches.stop()
    await f.caches.list()
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.equal(await f.space('list').exists(listKey({})), true, 'stopped')
  } finally {
    await f.dispose()
  }
})

void test('cacheStats: keys, hits, misses and hit rate per type and overall, the backend and its state', async () => {
  const f = await fixture()
  try {
    await f.caches.task('a')
    await f.caches.task('a')
    await f.caches.task('a')
    await f.caches.statistics()
    const stats = await f.caches.cacheStats()
    assert.equal(stats.enabled, true)
    assert.equal(stats.namespace, 'cache:skalds-task-cache')
    assert.deepEqual({ ...stats.types.status }, { keys: 1, hits: 2, misses: 1, errors: 0, hitRate: 2 / 3, ttlMs: 300_000 })
    assert.equal(stats.types.statistics.keys, 1)
    assert.equal(stats.types.list.keys, 0)
    assert.deepEqual({ ...stats.overall }, { keys: 2, hits: 2, misses: 2, errors: 0, hitRate: 0.5 })
    assert.equal(stats.connection.backend, 'memory')
    assert.equal(stats.connection.status, 'healthy')
    assert.equal(stats.connection.breaker, 'closed')
    assert.equal(stats.connection.ready, undefined)
    assert.equal(typeof stats.memory.usedBytes, 'number')
    assert.equal(stats.bypassing, false)
    f.chaos.alwaysThrow()
    const down = await f.caches.cacheStats()
    assert.equal(down.connection.status, 'degraded')
    assert.equal(down.types.status.keys, undefined)
  } finally {
    await f.dispose()
  }
})
