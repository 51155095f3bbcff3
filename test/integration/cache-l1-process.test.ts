// L1 eviction across real OS processes: a child process holds a key in L1; a write in this process evicts it there
// through Redis pub/sub.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createCache } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { waitFor } from '../helpers/wait.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'

const childFile = fileURLToPath(new URL('../fixtures/cache-l1-child.ts', import.meta.url))

void test('a set in one process evicts the L1 copy held by another process (Redis 8)', async () => {
  const redis = { url: redis8Url(), keyPrefix: uniquePrefix('l1-process') }
  const child = fork(childFile, [], { execArgv: [], env: { ...process.env, CACHE_REDIS: JSON.stringify(redis) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const replies = new Map<number, (reply: { value: unknown; l1: unknown }) => void>()
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.on('message', (raw) => {
      const message = raw as { ready?: boolean; id?: number; value: unknown; l1: unknown }
      if (message.ready) resolve()
      else replies.get(message.id!)?.(message)
    })
  })
  let nextId = 0
  const ask = (op: 'get' | 'peek', key: string): Promise<{ value: unknown; l1: unknown }> =>
    new Promise((resolve) => {
      const id = nextId++
      replies.set(id, (reply) => resolve({ value: reply.value, l1: reply.l1 }))
      child.send({ id, op, key })
    })
  const cache = await createCache({ redis, namespace: 'l1-process', logger: silentLogger, l1: { maxEntries: 100, ttl: '1h' } })
  try {
    await ready
    await cache.set('k', 'v1')
    // The child reads until it holds k in L1 (our eviction message for that very write may evict its first copy).
    await waitFor(async () => (await ask('get', 'k')).l1 === 'v1', 'the child to hold k in L1')
    await cache.set('k', 'v2')
    await waitFor(async () => (await ask('peek', 'k')).l1 === null, 'the child to evict k')
    await waitFor(async () => (await ask('get', 'k')).l1 === 'v2', 'the child to read v2 into L1')
    await cache.delete('k')
    await waitFor(async () => (await ask('peek', 'k')).l1 === null, 'the child to evict k after delete')
    assert.equal((await ask('get', 'k')).value, undefined)
    await cache.clear()
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.send({ id: -1, op: 'close', key: '' })
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())])
    if (child.exitCode === null) child.kill()
    await cache.close()
  }
})
