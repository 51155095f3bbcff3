// The task caches when their Redis goes silent (a TCP proxy between one controller and Redis drops every byte): every
// read answers from the store within a bound and never throws, the cache layer warns once, a change recorded
// meanwhile is not lost (reads bypass the cache until the flush), and caching resumes when Redis answers again —
// without the other controller, which kept its connection, reading the pre-change value afterwards.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createCache } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createTaskCaches } from '../../src/controller/index.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import { capturingLogger, outageWarnings, type LogLine } from '../helpers/capture-logger.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { waitFor } from '../helpers/wait.ts'

void test('Redis blackholed: reads answer from the store promptly, no throw, one warning; caching resumes after; nothing stale', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-task-cache-outage-'))
  const prefix = uniquePrefix('task-caches-outage')
  const proxy = await TcpProxy.start(Number(new URL(redis8Url()).port))
  const lines: LogLine[] = []
  const logger = capturingLogger(lines)
  // A: the controller behind the proxy, with the cache's defaults (1 s timeout, breaker 5 failures / 5 s).
  const aConnection = await RedisConnection.connect({ url: proxy.url, keyPrefix: prefix, logger: silentLogger, reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
  const aCache = await createCache({ redis: aConnection, logger })
  const aStore = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  const a = createTaskCaches({ store: aStore, cache: aCache, connection: aConnection, logger })
  // B: a controller that keeps its connection.
  const bConnection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  const bCache = await createCache({ redis: bConnection, logger: silentLogger })
  const bStore = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  const b = createTaskCaches({ store: bStore, cache: bCache, logger: silentLogger })
  try {
    await aStore.create({ id: 'a', className: 'Crawl', source: 'API', executor: 'skald-1', lifecycleStatus: 'Running' })
    for (const c of [a, b]) {
      assert.equal((await c.task('a'))?.lifecycleStatus, 'Running')
      assert.equal((await c.statistics()).byStatus.Running, 1)
    }

    proxy.blackhole()
    const slowest = { ms: 0 }
    const read = async <T>(run: () => Promise<T>): Promise<T> => {
      const started = performance.now()
      const value = await run()
      slowest.ms = Math.max(slowest.ms, performance.now() - started)
      return value
    }
    // While the breaker is still closed (each cache call waits its 1 s timeout in the background) and once it opened.
    for (let i = 0; i < 8; i++) {
      assert.equal((await read(() => a.task('a')))?.lifecycleStatus, 'Running')
      assert.equal((await read(() => a.list())).total, 1)
      assert.equal((await read(() => a.execution('a')))?.executor, 'skald-1')
    }
    assert.ok(slowest.ms < 2000, `the slowest read during the outage took ${Math.round(slowest.ms)} ms`)

    // A change recorded during the outage: not confirmed, yet never read stale, here or (after recovery) by B.
    await aStore.update('a', { lifecycleStatus: 'Finished' })
    const started = performance.now()
    assert.equal(await a.changed({ id: 'a', kind: 'status', executor: 'skald-1', previousExecutor: 'skald-1' }), false)
    assert.ok(performance.now() - started < 2000, 'changed() gives up within its bound')
    assert.equal((await read(() => a.task('a')))?.lifecycleStatus, 'Finished')
    assert.equal((await read(() => a.statistics())).byStatus.Finished, 1)
    assert.ok(slowest.ms < 2000, `the slowest read during the outage took ${Math.round(slowest.ms)} ms`)
    const during = await a.cacheStats()
    assert.equal(during.bypassing, true)
    assert.notEqual(during.connection.status, 'healthy')
    assert.equal(outageWarnings(lines).length, 1, 'one warning for the outage')

    proxy.restore()
    await waitFor(async () => !(await a.cacheStats()).bypassing, 'A to flush once Redis answers again', 30_000, 100)
    assert.equal((await b.task('a'))?.lifecycleStatus, 'Finished', 'B does not read the pre-change value A could not drop during the outage')
    assert.equal((await b.statistics()).byStatus.Finished, 1)
    // Caching resumes in A.
    assert.equal((await a.task('a'))?.lifecycleStatus, 'Finished')
    const hits = aCache.stats()['cache:skalds-task-cache:status']!.hits
    assert.equal((await a.task('a'))?.lifecycleStatus, 'Finished')
    assert.equal(aCache.stats()['cache:skalds-task-cache:status']!.hits, hits + 1)
    assert.ok(lines.some((l) => l.level === 'info' && l.msg.startsWith('task caches: flushed')))
    const after = await a.cacheStats()
    assert.equal(after.connection.ready, true)
    assert.equal(after.counters.flushes, 1)
  } finally {
    await a.stop()
    await b.stop()
    await deleteKeysWithPrefix(bConnection, prefix)
    await aCache.close()
    await bCache.close()
    await aConnection.close()
    await bConnection.close()
    await proxy.close()
    await aStore.close()
    await bStore.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
