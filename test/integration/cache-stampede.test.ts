// Stampede protection across OS processes: 4 child processes × 50 concurrent getOrSet on one key with
// lock.distributed → the factory runs exactly once (counted in Redis), and every caller gets that one value.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { RedisConnectionOptions } from '../../src/redis/connection-options.ts'
import { createCache } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { redisClusterNodes, redis8Url, uniquePrefix } from '../helpers/servers.ts'

const child = fileURLToPath(new URL('../fixtures/cache-stampede-child.ts', import.meta.url))

function runChild(env: Record<string, string>): Promise<{ pid: number; values: string[] }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    proc.on('error', reject)
    proc.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`))
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as { pid: number; values: string[] })
    })
  })
}

for (const [name, base] of [
  ['redis8', { url: redis8Url() }],
  ['cluster', { cluster: { nodes: redisClusterNodes() } }],
] as Array<[string, RedisConnectionOptions]>) {
  void test(`getOrSet with lock.distributed runs the factory once across 4 processes × 50 callers (${name})`, async () => {
    const redis = { ...base, keyPrefix: uniquePrefix(`stampede-${name}`) }
    const key = 'report'
    // Children start together: spawning 4 Node processes takes a while on a loaded machine.
    const startAt = String(Date.now() + 4000)
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runChild({ CACHE_REDIS: JSON.stringify(redis), CACHE_KEY: key, START_AT: startAt, CONCURRENCY: '50' })),
    )
    const cache = await createCache({ redis, namespace: 'stampede', logger: silentLogger })
    try {
      assert.equal(await cache.namespace('counters').get(`${key}:factory-calls`), 1, 'the factory ran exactly once')
      const seen = new Set(results.flatMap((r) => r.values))
      assert.equal(seen.size, 1, `every caller got the same value, got ${[...seen].join(' / ')}`)
      const stored = await cache.get<{ computedBy: number }>(key)
      assert.ok(results.some((r) => r.pid === stored?.computedBy), 'the stored value came from one of the children')
      await cache.clear()
    } finally {
      await cache.close()
    }
  })
}
