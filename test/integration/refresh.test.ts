// The refresh contract on Redis 8, Redis 7.0 and the cluster (lock, state and values spread over slots), and two
// processes running the same job: each tick is refreshed at most once.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { RedisBackend } from '../../src/cache/backends/redis.ts'
import type { RedisConnection } from '../../src/redis/connection.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { redisTargets, uniquePrefix, type RedisTarget } from '../helpers/servers.ts'
import { refreshContract } from '../contracts/refresh-contract.ts'

const worker = fileURLToPath(new URL('../fixtures/refresh-worker.ts', import.meta.url))

function runWorker(target: RedisTarget, prefix: string, intervalMs: number, runMs: number): Promise<{ pid: number; runs: number; skipped: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker], {
      env: { ...process.env, TARGET: JSON.stringify(target), PREFIX: prefix, INTERVAL_MS: String(intervalMs), RUN_MS: String(runMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`refresh worker exited with ${code}: ${err}`))
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as { pid: number; runs: number; skipped: number })
    })
  })
}

for (const target of redisTargets()) {
  refreshContract(target.name, async () => {
    const prefix = uniquePrefix(`refresh-${target.name}`)
    const connection = await connectTarget(target, '')
    const backend = new RedisBackend(connection, { logger: silentLogger })
    return {
      store: backend,
      prefix,
      deadStore: async () => {
        const dead = await connectTarget(target, '')
        await dead.close()
        return new RedisBackend(dead, { logger: silentLogger })
      },
      cleanup: async () => {
        await backend.close()
        await connection.close()
      },
    }
  })

  void test(`refresh on ${target.name}: two processes running one job refresh each tick at most once`, async () => {
    const prefix = uniquePrefix(`refresh-2p-${target.name}`)
    const intervalMs = 500
    const runMs = 4000
    const startedAt = Date.now()
    const [a, b] = await Promise.all([runWorker(target, prefix, intervalMs, runMs), runWorker(target, prefix, intervalMs, runMs)])
    const endedAt = Date.now()
    const connection: RedisConnection = await connectTarget(target, prefix)
    try {
      const listKey = connection.key('loads')
      const loads = (await connection.send<unknown[]>(['LRANGE', listKey, '0', '-1'], { key: listKey })).map(String)
      const ticks = loads.map((entry) => Number(entry.split(':')[0]))
      // The strict part: no tick was refreshed twice (it would be, every tick, if both processes refreshed).
      assert.equal(new Set(ticks).size, ticks.length, `a tick refreshed twice: ${loads.join(' ')}`)
      // The loose part, immune to a slow machine: loads never exceed the ticks that fell inside the run, and the
      // job did run repeatedly.
      const ticksInWindow = Math.floor(endedAt / intervalMs) - Math.floor(startedAt / intervalMs) + 1
      assert.ok(ticks.length <= ticksInWindow, `${ticks.length} loads for ${ticksInWindow} ticks`)
      assert.ok(ticks.length >= 3, `the job ran repeatedly (${ticks.length} loads)`)
      assert.ok(ticks.every((tick) => tick % intervalMs === 0), 'loads belong to aligned ticks')
      assert.equal(a.runs + b.runs, ticks.length, 'every run the processes report is a recorded load')
      // The processes overlapped and contended (their start-up times differ, so not every tick had two contenders).
      assert.ok(a.skipped + b.skipped >= 1, 'the processes competed for at least one tick')
    } finally {
      await connection.close()
    }
  })
}
