// The task caches on the in-memory cache backend over a real SQLite store (temp file): hits and misses, TTLs, key
// canonicalisation, every change kind, manual invalidation, views, warm-up, and the namespace rule.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { createCache, MemoryBackend, type CacheService } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { cachedTaskReads, cleanupOperations, createTaskCaches, TaskCacheOptionsError, TASK_CACHE_DEFAULT_TTLS, type TaskCaches, type TaskCachesOptions, type TaskCacheType } from '../../src/controller/index.ts'
import { listKey, skaldKey, taskKey, TYPE_NAMESPACE } from '../../src/controller/task-cache/keys.ts'
import { createMemorySkaldStateBackend } from '../../src/state/memory.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'
import { taskProgressKey, taskCheckpointKey, taskLogKey } from '../../src/state/keys.ts'
import { taskHeartbeatKey } from '../../src/model/keys.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import { TaskQueryError, type TaskListQuery, type TaskStore } from '../../src/store/index.ts'

interface Fixture {
  store: SqliteTaskStore
  cache: CacheService
  backend: MemoryBackend
  caches: TaskCaches
  state: ReturnType<typeof createMemorySkaldStateBackend>
  /** store calls by method */
  calls: Record<string, number>
  /** the CacheService namespace of a cache type */
  space(type: TaskCacheType): CacheService
  dispose(): Promise<void>
}

async function fixture(options: Partial<TaskCachesOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-task-cache-'))
  const store = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  const backend = new MemoryBackend()
  const cache = await createCache({ backend, logger: silentLogger })
  const state = createMemorySkaldStateBackend()
  const calls: Record<string, number> = {}
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  }) as TaskStore
  const caches = createTaskCaches({ store: counted, cache, state: createSkaldStateReader(state), logger: silentLogger, reinvalidateAfterMs: 0, ...options })
  const root = cache.namespace('skalds-task-cache')
  return {
    store,
    cache,
    backend,
    caches,
    state,
    calls,
    space: (type) => root.namespace(TYPE_NAMESPACE[type]),
    dispose: async () => {
      await caches.stop()
      await cache.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function seed(store: TaskStore): Promise<void> {
  await store.create({ id: 'a', className: 'Crawl', source: 'API', executor: 'skald-1', lifecycleStatus: 'Running', createDateTime: 1000 })
  await store.create({ id: 'b', className: 'Crawl', source: 'API', executor: 'skald-2', lifecycleStatus: 'Running', createDateTime: 2000 })
  await store.create({ id: 'c', className: 'Index', source: 'API', createDateTime: 3000 })
}

void test('reads: a miss asks the store once, a hit does not; a missing task is null', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    assert.equal((await f.caches.task('a'))?.executor, 'skald-1')
    assert.equal((await f.caches.task('a'))?.executor, 'skald-1')
    assert.equal(f.calls.get, 1)
    assert.equal(await f.caches.task('nope'), null)
    assert.equal(await f.caches.task('nope'), null)
    assert.equal(f.calls.get, 2, 'a missing task is cached as null too')
    const [x, y] = await Promise.all([f.caches.list({ limit: 2 }), f.caches.list({ limit: 2 })])
    assert.deepEqual(x, y)
    assert.equal(f.calls.list, 1, 'concurrent misses run the query once')
    assert.deepEqual((await f.caches.statistics()).byStatus.Running, 2)
    await f.caches.statistics()
    assert.equal(f.calls.countByStatus, 1)
    assert.deepEqual((await f.caches.skaldTasks('skald-1')).items.map((t) => t.id), ['a'])
    await f.caches.skaldTasks('skald-1')
    assert.equal(f.calls.list, 2)
    const stats = f.cache.stats()
    assert.equal(stats[f.space('status').name]?.hits, 2)
    assert.equal(stats[f.space('status').name]?.misses, 2)
  } finally {
    await f.dispose()
  }
})

void test('TTLs: each type is stored with the seed default, or the given one', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    await Promise.all([f.caches.task('a'), f.caches.progress('a'), f.caches.execution('a'), f.caches.statistics(), f.caches.list(), f.caches.skaldTasks('skald-1')])
    const keys: Record<TaskCacheType, string> = { status: taskKey('a'), progress: taskKey('a'), execution: taskKey('a'), statistics: 'summary', list: listKey({}), skaldTasks: skaldKey('skald-1') }
    for (const [type, key] of Object.entries(keys) as Array<[TaskCacheType, string]>) {
      const ttl = await f.space(type).ttl(key)
      const expected = TASK_CACHE_DEFAULT_TTLS[type]
      assert.ok(typeof ttl === 'number' && ttl <= expected && ttl > expected - 5000, `${type}: ttl ${String(ttl)}, expected ≈ ${expected}`)
    }
    assert.deepEqual(f.caches.ttls, TASK_CACHE_DEFAULT_TTLS)
  } finally {
    await f.dispose()
  }
  const g = await fixture({ ttls: { list: 7000 } })
  try {
    await g.caches.list()
    const ttl = await g.space('list').ttl(listKey({}))
    assert.ok(typeof ttl === 'number' && ttl <= 7000 && ttl > 2000)
    assert.equal(g.caches.ttls.status, TASK_CACHE_DEFAULT_TTLS.status)
  } finally {
    await g.dispose()
  }
})

void test('list keys: one key per query whatever its spelling, another for another query; hashed and short', () => {
  const a: TaskListQuery = { lifecycleStatus: ['Running', 'Created'], className: ['B', 'A', 'A'], limit: 10, offset: 0 }
  const b: TaskListQuery = { offset: 0, limit: 10, className: ['A', 'B'], lifecycleStatus: ['Created', 'Running'] }
  assert.equal(listKey(a), listKey(b))
  assert.equal(listKey({}), listKey({ limit: 100, offset: 0, sort: { field: 'createDateTime', direction: 'desc' } }), 'defaults filled')
  assert.equal(listKey({ lifecycleStatus: 'Running' }), listKey({ lifecycleStatus: ['Running'] }))
  assert.equal(listKey({ text: '' }), listKey({}), 'an empty text is no filter, as the store reads it')
  assert.notEqual(listKey({ offset: 1 }), listKey({}))
  assert.notEqual(listKey({ executor: null }), listKey({}))
  assert.notEqual(listKey({ sort: [{ field: 'priority' }, { field: 'className' }] }), listKey({ sort: [{ field: 'className' }, { field: 'priority' }] }), 'sort keys keep their order')
  assert.match(listKey(a), /^q:[A-Za-z0-9_-]{22}$/)
  assert.throws(() => listKey({ limit: 0 }), TaskQueryError)

  const statuses = fc.subarray(['Created', 'Assigning', 'Running', 'Paused', 'Finished', 'Failed', 'Cancelled'] as const)
  const query = fc.record(
    {
      lifecycleStatus: statuses,
      className: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
      executor: fc.option(fc.string({ minLength: 1, maxLength: 6 })),
      text: fc.string({ maxLength: 5 }),
      createdFrom: fc.integer({ min: 0, max: 10 ** 12 }),
      offset: fc.nat(1000),
      limit: fc.integer({ min: 1, max: 10_000 }),
      sort: fc.uniqueArray(fc.constantFrom('priority', 'id', 'className', 'createDateTime'), { maxLength: 3 }).map((fields) => fields.map((field) => ({ field, direction: 'desc' as const }))),
    },
    { requiredKeys: [] },
  )
  // Reordered keys and shuffled (or duplicated) filter arrays: the same key.
  fc.assert(
    fc.property(query, fc.integer(), (q, seedValue) => {
      const shuffle = <T>(xs: readonly T[]): T[] => [...xs, ...xs.slice(0, 1)].sort((x, y) => (String(x) + seedValue < String(y) + seedValue ? -1 : 1))
      const reordered: Record<string, unknown> = {}
      for (const key of Object.keys(q).reverse()) reordered[key] = q[key as keyof typeof q]
      if (q.lifecycleStatus) reordered.lifecycleStatus = shuffle(q.lifecycleStatus)
      if (q.className) reordered.className = shuffle(q.className)
      assert.equal(listKey(reordered as TaskListQuery), listKey(q as TaskListQuery))
    }),
  )
  // A different page of the same query: another key.
  fc.assert(fc.property(query, (q) => listKey({ ...(q as TaskListQuery), offset: (q.offset ?? 0) + 1 }) !== listKey(q as TaskListQuery)))
})

void test('list: the same query written two ways is read from the store once', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    const one = await f.caches.list({ className: ['Index', 'Crawl'], sort: { field: 'id' } })
    const two = await f.caches.list({ sort: [{ field: 'id', direction: 'asc' }], className: ['Crawl', 'Index'] })
    assert.deepEqual(one.items.map((t) => t.id), ['a', 'b', 'c'])
    assert.deepEqual(two, one)
    assert.equal(f.calls.list, 1)
    await assert.rejects(f.caches.list({ limit: -1 }), TaskQueryError)
  } finally {
    await f.dispose()
  }
})

/** Fills every cache type for tasks a and b, Skalds skald-1 and skald-2, and one list page; returns what is present. */
async function fillAll(f: Fixture): Promise<() => Promise<Record<string, boolean>>> {
  await Promise.all([
    ...['a', 'b'].flatMap((id) => [f.caches.task(id), f.caches.progress(id), f.caches.execution(id)]),
    f.caches.skaldTasks('skald-1'),
    f.caches.skaldTasks('skald-2'),
    f.caches.statistics(),
    f.caches.list(),
  ])
  return async () => {
    const out: Record<string, boolean> = {}
    for (const id of ['a', 'b']) for (const type of ['status', 'progress', 'execution'] as const) out[`${type}:${id}`] = await f.space(type).exists(taskKey(id))
    for (const id of ['skald-1', 'skald-2']) out[`skaldTasks:${id}`] = await f.space('skaldTasks').exists(skaldKey(id))
    out.statistics = await f.space('statistics').exists('summary')
    out.list = await f.space('list').exists(listKey({}))
    return out
  }
}

const ALL_PRESENT = {
  'status:a': true, 'progress:a': true, 'execution:a': true, 'status:b': true, 'progress:b': true, 'execution:b': true,
  'skaldTasks:skald-1': true, 'skaldTasks:skald-2': true, statistics: true, list: true,
}

void test('changed(): every kind drops what it made stale, and nothing else', async () => {
  for (const kind of ['created', 'status', 'attachments', 'cancelled', 'deleted'] as const) {
    const f = await fixture()
    try {
      await seed(f.store)
      const present = await fillAll(f)
      assert.deepEqual(await present(), ALL_PRESENT)
      assert.equal(await f.caches.changed({ id: 'a', kind, executor: 'skald-1', previousExecutor: null }), true)
      assert.deepEqual(await present(), { ...ALL_PRESENT, 'status:a': false, 'progress:a': false, 'execution:a': false, 'skaldTasks:skald-1': false, statistics: false, list: false }, kind)
    } finally {
      await f.dispose()
    }
  }
  const f = await fixture()
  try {
    await seed(f.store)
    const present = await fillAll(f)
    assert.equal(await f.caches.changed({ id: 'a', kind: 'progress' }), true)
    assert.deepEqual(await present(), { ...ALL_PRESENT, 'progress:a': false, 'execution:a': false }, 'progress')
    await fillAll(f)
    await f.caches.changed({ id: 'a', kind: 'status', executor: 'skald-2', previousExecutor: 'skald-1' })
    assert.deepEqual(await present(), { ...ALL_PRESENT, 'status:a': false, 'progress:a': false, 'execution:a': false, 'skaldTasks:skald-1': false, 'skaldTasks:skald-2': false, statistics: false, list: false }, 'moved')
    await fillAll(f)
    await f.caches.changed({ id: 'b', kind: 'status' })
    const unknown = await present()
    assert.equal(unknown['skaldTasks:skald-1'], false, 'executors not given: every per-Skald list is dropped')
    assert.equal(unknown['skaldTasks:skald-2'], false)
    assert.equal(unknown['status:a'], true)
    await assert.rejects(f.caches.changed({ id: '', kind: 'status' }), { code: 'E_TASK_CACHE_ARGUMENT' })
    await assert.rejects(f.caches.changed({ id: 'a', kind: 'renamed' as 'status' }), { code: 'E_TASK_CACHE_ARGUMENT' })
  } finally {
    await f.dispose()
  }
})

void test('a write then changed(): the next read is fresh, also while a read that saw the old value was in flight', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Running')
    await f.store.update('a', { lifecycleStatus: 'Finished' })
    await f.caches.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' })
    assert.equal((await f.caches.task('a'))?.lifecycleStatus, 'Finished')

    // A read that took the old row from the store before the write, and stores it after the delete.
    await f.caches.invalidateAll()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow = await fixtureOver(f, async (id) => {
      const row = await f.store.get(id)
      await gate
      return row
    })
    const inflight = slow.task('a')
    await new Promise((resolve) => setTimeout(resolve, 20))
    await f.store.update('a', { lifecycleStatus: 'Failed' })
    const change = slow.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' })
    let settled = false
    void change.then(() => (settled = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(settled, false, 'changed() waits for the read in flight')
    release()
    assert.equal((await inflight)?.lifecycleStatus, 'Finished', 'the concurrent read answers what it read')
    assert.equal(await change, true)
    assert.equal((await slow.task('a'))?.lifecycleStatus, 'Failed', 'and what it stored late was dropped again')
    await slow.stop()
  } finally {
    await f.dispose()
  }
})

/** Task caches over the fixture's cache whose store `get` is `get`. */
function fixtureOver(f: Fixture, get: (id: string) => Promise<unknown>): Promise<TaskCaches> {
  const store = { ...(f.store as unknown as Record<string, unknown>), get } as unknown as TaskStore
  return Promise.resolve(createTaskCaches({ store, cache: f.cache, logger: silentLogger, reinvalidateAfterMs: 0 }))
}

void test('manual invalidation: all, one task (its own entries), one Skald', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    const present = await fillAll(f)
    assert.equal(await f.caches.invalidateTask('a'), true)
    assert.deepEqual(await present(), { ...ALL_PRESENT, 'status:a': false, 'progress:a': false, 'execution:a': false })
    assert.equal(await f.caches.invalidateSkald('skald-2'), true)
    assert.equal((await present())['skaldTasks:skald-2'], false)
    assert.equal((await present())['skaldTasks:skald-1'], true)
    assert.equal(await f.caches.invalidateAll(), true)
    assert.ok(Object.values(await present()).every((p) => !p))
    assert.equal(await f.backend.countMatching('cache:skalds-task-cache:*'), 0)
  } finally {
    await f.dispose()
  }
})

void test('views: progress of the current run only, the log, the execution summary; statistics; warm-up', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    await f.store.update('a', { runtime: { epoch: 3, attempt: 2, lastError: 'boom', checkpoint: { page: 7 } } })
    await f.state.apply([
      { op: 'set', key: taskProgressKey('a'), value: JSON.stringify({ value: 40, message: 'page 7', epoch: 3, timestamp: 5000 }), ttlMs: 60_000 },
      { op: 'set', key: taskProgressKey('b'), value: JSON.stringify({ value: 90, message: null, epoch: 1, timestamp: 5000 }), ttlMs: 60_000 },
      { op: 'set', key: taskCheckpointKey('a'), value: JSON.stringify({ state: { page: 8 }, epoch: 3, timestamp: 6000 }), ttlMs: 60_000 },
      { op: 'append', key: taskLogKey('a'), values: ['[out] one', '[out] two'], maxLength: 100, ttlMs: 60_000 },
      { op: 'set', key: taskHeartbeatKey('a'), value: '17', ttlMs: 60_000 },
    ])
    const progress = await f.caches.progress('a')
    assert.deepEqual({ ...progress, readAt: 0 }, {
      taskId: 'a', lifecycleStatus: 'Running', executor: 'skald-1', epoch: 3, attempt: 2,
      progress: { value: 40, message: 'page 7', reportedAt: 5000 }, log: ['[out] one', '[out] two'], state: 'read', readAt: 0,
    })
    assert.equal((await f.caches.progress('b'))?.progress, null, 'a progress of an earlier run (epoch 1, task at 0) is not this run’s')
    assert.equal(await f.caches.progress('nope'), null)
    const execution = await f.caches.execution('a')
    assert.deepEqual({ ...execution, readAt: 0, updatedAt: 0 }, {
      taskId: 'a', lifecycleStatus: 'Running', executor: 'skald-1', epoch: 3, attempt: 2, maxRetries: null, lastError: 'boom',
      exception: null, heartbeat: { value: 17, present: true }, progress: 40, checkpoint: { bytes: 10, savedAt: 6000 }, pausedAt: null,
      state: 'read', readAt: 0, updatedAt: 0,
    })
    const statistics = await f.caches.statistics()
    assert.equal(statistics.total, 3)
    assert.deepEqual(statistics.classNames, ['Crawl', 'Index'])
    assert.equal(statistics.byStatus.Created, 1)

    await f.caches.invalidateAll()
    await f.caches.warmUp()
    assert.equal(await f.space('statistics').exists('summary'), true)
    assert.equal(await f.space('list').exists(listKey({})), true)
  } finally {
    await f.dispose()
  }
})

void test('no cache: the same API, every read from the store, invalidations a no-op', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-task-cache-'))
  const store = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  try {
    await seed(store)
    const caches = createTaskCaches({ store, cache: undefined, logger: silentLogger })
    assert.equal(caches.namespace, undefined)
    assert.equal((await caches.task('a'))?.id, 'a')
    assert.equal((await caches.list()).total, 3)
    assert.equal((await caches.progress('a'))?.state, 'none', 'no state reader: the view holds the task only')
    assert.equal(await caches.changed({ id: 'a', kind: 'status' }), true)
    await caches.warmUp()
    const stats = await caches.cacheStats()
    assert.equal(stats.enabled, false)
    assert.equal(stats.connection.status, 'disabled')
    assert.equal(stats.overall.hits, 0)
    await caches.stop()
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test('namespace: never under Skalds’ wire keys (skalds:*, task:*); no key written matches them', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    await fillAll(f)
    assert.equal(await f.backend.countMatching('*'), 10, 'status, progress, execution of a and b; two Skald lists; statistics; a page (the memory backend keeps tag sets aside)')
    assert.equal(await f.backend.countMatching('skalds:*'), 0)
    assert.equal(await f.backend.countMatching('task:*'), 0)
    assert.equal(f.caches.namespace, 'cache:skalds-task-cache')
  } finally {
    await f.dispose()
  }
  const store = { get: () => Promise.resolve(null) } as unknown as TaskStore
  for (const namespace of ['skalds', 'task', 'skalds:controller', 'task:x']) {
    const cache = await createCache({ namespace, logger: silentLogger })
    assert.throws(() => createTaskCaches({ store, cache }), (error: unknown) => error instanceof TaskCacheOptionsError && error.code === 'E_TASK_CACHE_OPTIONS' && /skalds:|task:/.test(error.message))
    await cache.close()
  }
  const cache = await createCache({ namespace: 'skaldsx', logger: silentLogger })
  assert.equal(createTaskCaches({ store, cache, namespace: 'tasks' }).namespace, 'skaldsx:tasks')
  assert.throws(() => createTaskCaches({ store, cache, namespace: 'a*' }), TaskCacheOptionsError)
  assert.throws(() => createTaskCaches({ store, cache, ttls: { list: 0 } }), /taskCaches: ttls\.list: must be a positive integer/)
  assert.throws(() => createTaskCaches({ store } as TaskCachesOptions), /cache: is required/)
  await cache.close()
})

void test('cachedTaskReads: the API’s read seam through the task caches', async () => {
  const f = await fixture()
  try {
    await seed(f.store)
    const reads = cachedTaskReads(f.caches)
    assert.equal((await reads.task('a'))?.id, 'a')
    assert.equal((await reads.list({ limit: 1 })).items.length, 1)
    assert.equal((await reads.countByStatus()).Running, 2)
    assert.deepEqual(await reads.classNames(), ['Crawl', 'Index'])
    assert.deepEqual((await reads.skaldTasks('skald-2')).map((t) => t.id), ['b'])
    assert.equal(f.calls.countByStatus, 1, 'counts and class names share the statistics entry')
    await f.store.update('a', { lifecycleStatus: 'Finished' })
    assert.equal(await reads.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' }), undefined)
    assert.equal((await reads.countByStatus()).Finished, 1)
    const lines = cleanupOperations(await f.caches.cleanup())
    assert.equal(lines.length, 1)
    assert.match(lines[0]!, /^task caches: statistics logged \(\d+ keys, hit rate \d+\.\d%\)$/)
  } finally {
    await f.dispose()
  }
})
