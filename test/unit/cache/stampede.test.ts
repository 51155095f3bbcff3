// Cross-instance stampede protection on the memory backend: several caches sharing one backend act as processes.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { sleep, waitFor } from '../../helpers/wait.ts'
import { MemoryBackend } from '../../../src/cache/backends/memory.ts'
import { createCache, type CacheService } from '../../../src/cache/index.ts'
import { silentLogger } from '../../../src/config/logger.ts'

const backend = new MemoryBackend()
const caches: CacheService[] = []
after(async () => {
  for (const cache of caches) await cache.close()
  await backend.close()
})

async function processes(n: number, namespace: string): Promise<CacheService[]> {
  const opened = await Promise.all(Array.from({ length: n }, () => createCache({ backend, namespace, logger: silentLogger, lock: { distributed: true, ttl: '5s', wait: '5s' } })))
  caches.push(...opened)
  return opened
}

void test('lock.distributed: 4 instances × 20 callers → one factory call', async () => {
  const instances = await processes(4, 'one-call')
  let calls = 0
  const factory = async (): Promise<string> => {
    calls++
    await sleep(100)
    return 'computed'
  }
  const values = await Promise.all(instances.flatMap((cache) => Array.from({ length: 20 }, () => cache.getOrSet('k', factory))))
  assert.equal(calls, 1)
  assert.ok(values.every((v) => v === 'computed'))
})

void test('a failing lock holder releases the lock: a waiter takes over and fills the key', async () => {
  const [holder, waiter] = await processes(2, 'takeover')
  let attempts = 0
  const first = holder!.getOrSet('k', async () => {
    attempts++
    await sleep(50)
    throw new Error('source failed')
  })
  await sleep(10)
  const second = waiter!.getOrSet('k', async () => {
    attempts++
    await sleep(10)
    return 'from the waiter'
  })
  await assert.rejects(first, /source failed/)
  assert.equal(await second, 'from the waiter')
  assert.equal(attempts, 2)
  assert.equal(await holder!.get('k'), 'from the waiter')
})

void test('a waiter runs the factory itself after lock.wait when the holder never fills', async () => {
  const [holder, waiter] = await processes(2, 'wait-expiry')
  let release!: () => void
  const blocked = new Promise<void>((resolve) => (release = resolve))
  const slow = holder!.getOrSet('k', async () => {
    await blocked
    return 'slow holder'
  })
  await sleep(20)
  const started = Date.now()
  const value = await waiter!.getOrSet('k', () => 'impatient', { lock: { distributed: true, wait: 200 } })
  assert.equal(value, 'impatient')
  assert.ok(Date.now() - started >= 150, 'it waited for lock.wait first')
  release()
  assert.equal(await slow, 'slow holder')
})

void test('a stale value is refreshed by one instance only (distributed refresh lock)', async () => {
  const instances = await processes(3, 'swr-lock')
  await instances[0]!.set('k', 'old', { ttl: 50, grace: '1h' })
  await sleep(80)
  let refreshes = 0
  const refresh = async (): Promise<string> => {
    refreshes++
    await sleep(50)
    return 'new'
  }
  const served = await Promise.all(instances.map((cache) => cache.getOrSet('k', refresh, { ttl: '1m', grace: '1h' })))
  assert.deepEqual(served, ['old', 'old', 'old'])
  await waitFor(async () => (await instances[1]!.get('k')) === 'new', 'the background refresh to reach instance 1', 5000, 10)
  assert.equal(await instances[2]!.get('k'), 'new')
  assert.equal(refreshes, 1)
})
