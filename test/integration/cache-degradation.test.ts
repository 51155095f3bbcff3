// Degradation on a real outage: a throwaway redis-server is killed mid-run and started again. Reads fall through to
// the factory, writes are skipped with ONE warning, no call waits past the timeout, the breaker opens, and caching
// resumes by itself after the restart.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createCache } from '../../src/cache/index.ts'
import { sleep, waitFor } from '../helpers/wait.ts'
import { capturingLogger, outageWarnings, type LogLine } from '../helpers/capture-logger.ts'
import { RedisProcess } from '../helpers/redis-process.ts'

// Our own throwaway redis-server ($REDIS_SERVER_BIN on a free port): never stop the shared servers.
const server = await RedisProcess.start()
after(() => server.kill())

void test('Redis stopped mid-run: fall through, one warning, bounded waits, breaker opens, caching resumes', async () => {
  const lines: LogLine[] = []
  const timeoutMs = 300
  const cache = await createCache({
    redis: { url: server.url, keyPrefix: 'degradation:', reconnect: { minDelayMs: 20, maxDelayMs: 200 }, connectTimeoutMs: 500 },
    namespace: 'app',
    timeout: timeoutMs,
    breaker: { failureThreshold: 3, openFor: '300ms' },
    logger: capturingLogger(lines),
  })
  try {
    await cache.set('before', 'cached')
    assert.equal(await cache.get('before'), 'cached')
    assert.equal((await cache.health()).status, 'healthy')

    await server.kill()

    // Every call answers within the timeout (generous margin for a loaded machine), none throws.
    let factoryCalls = 0
    const bound = timeoutMs + 1500
    for (let i = 0; i < 12; i++) {
      const started = Date.now()
      const value = await cache.getOrSet('report', () => {
        factoryCalls++
        return { fresh: i }
      })
      assert.deepEqual(value, { fresh: i }, 'reads fall through to the factory')
      assert.equal(await cache.get('before'), undefined)
      assert.equal(await cache.set(`skipped:${i}`, i), false, 'writes are skipped')
      assert.equal(await cache.delete('before'), false)
      assert.equal(await cache.increment('counter'), undefined)
      assert.ok(Date.now() - started < bound * 5, `5 calls took ${Date.now() - started} ms`)
    }
    assert.equal(factoryCalls, 12)
    const warnings = outageWarnings(lines)
    assert.equal(warnings.length, 1, 'exactly one warning for the outage')
    assert.ok(cache.stats()['app']!.errors > 0)
    const health = await cache.health()
    assert.equal(health.status, 'degraded')
    assert.notEqual(health.breaker, 'closed', 'the breaker opened')

    await server.restart()

    await waitFor(async () => (await cache.set('after', 'cached again')) === true, 'writes to resume after the restart', 20_000)
    assert.equal(await cache.get('after'), 'cached again')
    let calls = 0
    await cache.getOrSet('report', () => ++calls)
    await cache.getOrSet('report', () => ++calls)
    assert.equal(calls, 1, 'getOrSet caches again')
    await waitFor(async () => (await cache.health()).status === 'healthy', 'health to be healthy again', 20_000)
    assert.ok(lines.some((line) => line.level === 'info' && line.msg.startsWith('cache store recovered')))
  } finally {
    await cache.close()
  }
})

void test('Redis stalled (SIGSTOP): no call waits past the timeout, reads fall through, caching resumes after SIGCONT', async () => {
  const stalled = await RedisProcess.start()
  const lines: LogLine[] = []
  const timeoutMs = 300
  const cache = await createCache({
    redis: { url: stalled.url, keyPrefix: 'stall:' },
    namespace: 'app',
    timeout: timeoutMs,
    breaker: { failureThreshold: 3, openFor: '300ms' },
    l1: { maxEntries: 100 },
    logger: capturingLogger(lines),
  })
  try {
    await cache.set('k', 'v')
    stalled.stall()
    for (let i = 0; i < 6; i++) {
      const started = Date.now()
      assert.equal(await cache.getOrSet(`miss:${i}`, () => 'fallback'), 'fallback')
      assert.equal(await cache.set(`w:${i}`, i), false)
      // timeout + a generous margin for a loaded CI machine: what matters is that nothing waits for Redis to wake.
      assert.ok(Date.now() - started < 2 * (timeoutMs + 1500), `two calls took ${Date.now() - started} ms against a stalled server`)
    }
    assert.equal(outageWarnings(lines).length, 1)
    assert.equal((await cache.health()).status, 'degraded')
    stalled.resume()
    await waitFor(async () => (await cache.set('k2', 'v2')) === true, 'writes to resume after SIGCONT', 20_000)
    assert.equal(await cache.get('k2'), 'v2')
    assert.equal(await cache.get('k'), 'v')
  } finally {
    await cache.close()
    await stalled.kill()
  }
})

void test('Redis down at startup: the cache starts degraded, caches once Redis is up, and its L1 bus subscribes late', async () => {
  const late = await RedisProcess.start()
  await late.kill() // the port now refuses connections
  const lines: LogLine[] = []
  const options = {
    redis: { url: late.url, keyPrefix: 'late:', reconnect: { minDelayMs: 20, maxDelayMs: 200 }, connectTimeoutMs: 500 },
    namespace: 'app',
    timeout: 300,
    l1: { maxEntries: 100, ttl: '1h' as const },
  }
  const a = await createCache({ ...options, logger: capturingLogger(lines) })
  let b: Awaited<ReturnType<typeof createCache>> | undefined
  try {
    assert.equal(await a.set('k', 'v0'), false)
    assert.equal(await a.getOrSet('other', () => 'from source'), 'from source')
    assert.equal(outageWarnings(lines).length, 1)
    assert.ok(lines.some((line) => line.level === 'warn' && line.msg.includes('unreachable at startup')))
    await late.restart()
    await waitFor(async () => (await a.set('probe', 1)) === true, 'the cache to start caching', 20_000)
    b = await createCache({ ...options, logger: capturingLogger([]) })
    await b.set('k', 'v1')
    const other = b
    await waitFor(async () => (await a.get('k')) === 'v1' && a.getSync('k') === 'v1', 'a to hold k in L1', 20_000)
    // a's eviction subscription was retried in the background: b's write must reach it.
    await waitFor(
      async () => {
        await other.set('k', `v${Date.now()}`)
        await sleep(100)
        return a.getSync('k') === undefined
      },
      'a to receive evictions after its late subscription',
      30_000,
    )
  } finally {
    await b?.close()
    await a.close()
    await late.kill()
  }
})
