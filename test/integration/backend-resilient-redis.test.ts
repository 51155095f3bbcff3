// ResilientBackend over RedisBackend on a throwaway redis-server that this test stalls (SIGSTOP), resumes,
// kills and restarts: calls never wait past the timeout, the breaker opens, and it closes by itself once the
// server is back.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RedisBackend } from '../../src/cache/backends/redis.ts'
import { type BreakerStateChange, ResilientBackend } from '../../src/cache/backends/resilient.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { CircuitOpenError, RedisTimeoutError, RedisUnavailableError } from '../../src/redis/errors.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { waitFor } from '../helpers/wait.ts'

async function timed(run: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now()
  try {
    await run()
  } catch (error) {
    return { ms: Date.now() - started, error }
  }
  assert.fail('expected the call to fail')
}

void describe('ResilientBackend over RedisBackend on a real redis-server', () => {
  let server: RedisProcess
  let connection: RedisConnection
  let resilient: ResilientBackend
  const changes: string[] = []

  before(async () => {
    server = await RedisProcess.start()
    // The connection's own command timeout is long on purpose: the facade must cut stalled calls off by itself.
    connection = await RedisConnection.connect({ url: server.url, commandTimeoutMs: 10_000, reconnect: { maxDelayMs: 200 }, logger: silentLogger })
    resilient = new ResilientBackend(new RedisBackend(connection), {
      timeout: 300,
      breaker: { failureThreshold: 3, openFor: 500 },
      logger: silentLogger,
      onStateChange: (change: BreakerStateChange) => changes.push(`${change.from}->${change.to}`),
    })
  })

  after(async () => {
    await resilient.close()
    await connection.close()
    await server.kill()
  })

  void it('stalled server: each call is cut off at the timeout, the breaker opens, closes after SIGCONT', async () => {
    await resilient.set('k', 'v')
    changes.length = 0
    server.stall()
    try {
      for (let i = 0; i < 3; i++) {
        const { ms, error } = await timed(() => resilient.get('k'))
        assert.ok(error instanceof RedisTimeoutError, String(error))
        assert.ok(ms >= 290 && ms < 3000, `call ${i} took ${ms} ms with a 300 ms timeout`)
      }
      assert.equal(resilient.state, 'open')
      const { ms, error } = await timed(() => resilient.get('k'))
      assert.ok(error instanceof CircuitOpenError, String(error))
      assert.ok(ms < 100, `an open breaker fails fast, took ${ms} ms`)
    } finally {
      server.resume()
    }
    await waitFor(async () => {
      await resilient.get('k').catch(() => undefined)
      return resilient.state === 'closed'
    }, 'the breaker closes by itself once the server answers')
    assert.equal(await resilient.get('k'), 'v')
    assert.deepEqual(changes.slice(0, 2), ['closed->open', 'open->half-open'])
    assert.equal(changes.at(-1), 'half-open->closed')
  })

  void it('killed server: calls fail fast, the breaker opens, and closes by itself after a restart', async () => {
    changes.length = 0
    await server.kill()
    for (let i = 0; i < 3; i++) {
      const { ms, error } = await timed(() => resilient.set('k', 'v2'))
      assert.ok(error instanceof RedisUnavailableError || error instanceof RedisTimeoutError, String(error))
      assert.ok(ms < 1000, `took ${ms} ms`)
    }
    assert.equal(resilient.state, 'open')
    await assert.rejects(resilient.ping(), CircuitOpenError)
    await server.restart()
    await waitFor(async () => {
      await resilient.ping().catch(() => undefined)
      return resilient.state === 'closed'
    }, 'the breaker closes after the restart')
    await resilient.set('k', 'after-restart')
    assert.equal(await resilient.get('k'), 'after-restart')
    assert.equal(changes[0], 'closed->open')
    assert.equal(changes.at(-1), 'half-open->closed')
  })

  void it('a subscription survives a server restart (the shared subscriber resubscribes by itself)', async () => {
    const got: string[] = []
    const unsubscribe = await resilient.subscribe('restart-channel', (message) => got.push(message))
    await resilient.publish('restart-channel', 'before')
    await waitFor(() => got.includes('before'), 'delivered before the restart')
    await server.kill()
    await server.restart()
    await waitFor(async () => {
      await resilient.publish('restart-channel', 'after').catch(() => undefined)
      return got.includes('after')
    }, 'delivered after the restart')
    await unsubscribe()
  })
})
