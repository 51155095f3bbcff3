// The rate-limit contract on Redis 8, 7.0 and the cluster; real-time fast-check runs of every algorithm on Redis 8
// and 7.0; and what a check answers while Redis is down (onStoreError).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sleep, waitFor } from '../helpers/wait.ts'
import fc from 'fast-check'
import { silentLogger, type Logger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createRateLimiter } from '../../src/coordination/rate-limit/limiter.ts'
import { RATE_LIMIT_ALGORITHMS } from '../../src/coordination/rate-limit/types.ts'
import { createRedisRateLimitStore } from '../../src/coordination/rate-limit/redis-rate-limit-store.ts'
import { checkWindowInvariants, type Allowed } from '../helpers/rate-limit-invariants.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, redisLegacyUrl, redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { rateLimitContract } from '../contracts/rate-limit-contract.ts'

async function connect(target: { url?: string; clusterNodes?: string[] }): Promise<RedisConnection> {
  return RedisConnection.connect(target.url ? { url: target.url, logger: silentLogger } : { cluster: { nodes: target.clusterNodes! }, logger: silentLogger })
}

for (const target of redisTargets()) {
  rateLimitContract(target.name, async () => {
    const connection = await connect(target)
    const prefix = uniquePrefix('rl')
    return {
      store: createRedisRateLimitStore(connection),
      prefix,
      close: async () => {
        await deleteKeysWithPrefix(connection, prefix)
        await connection.close()
      },
    }
  })
}

for (const [name, url] of [
  ['redis8', redis8Url()],
  ['redis7-legacy', redisLegacyUrl()],
] as const) {
  void describe(`rate-limit properties in real time on ${name}`, () => {
    let connection: RedisConnection
    before(async () => {
      connection = await connect({ url })
    })
    after(async () => {
      await connection.close()
    })
    for (const algorithm of RATE_LIMIT_ALGORITHMS) {
      void it(`${algorithm}: never more than the limit in a window (server clock, bounds from the client clock)`, async () => {
        const store = createRedisRateLimitStore(connection)
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 4 }),
            fc.integer({ min: 50, max: 250 }),
            fc.array(fc.record({ pause: fc.nat({ max: 40 }), costPick: fc.nat() }), { minLength: 4, maxLength: 14 }),
            async (limit, windowMs, seq) => {
              const rl = createRateLimiter({ store, algorithm, limit, window: windowMs, keyPrefix: uniquePrefix('rlp'), logger: silentLogger })
              const allowed: Allowed[] = []
              for (const step of seq) {
                if (step.pause > 0) await sleep(step.pause)
                const cost = 1 + (step.costPick % limit)
                // Redis' TIME during the call lies between these two readings of the same host's clock.
                const t0 = Date.now()
                const r = await rl.check('k', { cost })
                const t1 = Date.now() + 1
                assert.ok(r.remaining >= 0 && r.remaining <= limit)
                if (r.allowed) allowed.push({ t0, t1, cost })
                else assert.ok(r.retryAfterMs > 0)
              }
              checkWindowInvariants(algorithm, limit, windowMs, allowed)
            },
          ),
          { numRuns: 8 },
        )
      })
    }
  })
}

void describe('rate limiting while Redis is down (onStoreError)', () => {
  let server: RedisProcess
  let connection: RedisConnection
  const warnings: string[] = []
  const record = (m: object | string, t?: string): void => {
    warnings.push(typeof m === 'string' ? m : (t ?? ''))
  }
  const logger: Logger = { debug: () => {}, info: record, warn: record, error: record, child: () => logger }
  before(async () => {
    server = await RedisProcess.start()
    connection = await RedisConnection.connect({ url: server.url, logger: silentLogger, commandTimeoutMs: 300 })
  })
  after(async () => {
    await connection.close()
    await server.kill()
  })

  void it('fallback-local (default) keeps limiting in-process, deny denies, allow allows; all say degraded; Redis back = shared again', async () => {
    const store = createRedisRateLimitStore(connection)
    const prefix = uniquePrefix('rldown')
    const fallback = createRateLimiter({ store, limit: 2, window: '1h', keyPrefix: prefix, logger })
    const deny = createRateLimiter({ store, limit: 2, window: '1h', keyPrefix: prefix, onStoreError: 'deny', storeErrorRetryAfter: '5s', logger })
    const open = createRateLimiter({ store, limit: 2, window: '1h', keyPrefix: prefix, onStoreError: 'allow', logger })
    assert.equal((await fallback.check('up')).degraded, undefined)

    await server.kill()
    const verdicts = [await fallback.check('k'), await fallback.check('k'), await fallback.check('k')]
    assert.deepEqual(verdicts.map((v) => v.allowed), [true, true, false], 'the local fallback must still enforce the limit')
    assert.ok(verdicts.every((v) => v.degraded === 'fallback-local'))
    const denied = await deny.check('k')
    assert.equal(denied.allowed, false)
    assert.equal(denied.retryAfterMs, 5000)
    assert.equal(denied.degraded, 'deny')
    const allowed = await open.check('k')
    assert.equal(allowed.allowed, true)
    assert.equal(allowed.degraded, 'allow')
    assert.equal(warnings.filter((w) => /store failed/.test(w)).length, 3, 'one warning per limiter per outage')

    await server.restart()
    const back = await waitFor(async () => {
      const verdict = await fallback.check('after')
      return verdict.degraded === undefined && verdict
    }, 'checks to go back to Redis once it answers', 15_000, 100)
    assert.equal(back.degraded, undefined, 'checks must go back to Redis once it answers')
    assert.ok(warnings.some((w) => /answers again/.test(w)))
  })

  void it('a server that stops answering (paused) times out into the fallback instead of hanging', async () => {
    const store = createRedisRateLimitStore(connection, { timeoutMs: 300 })
    const limiter = createRateLimiter({ store, limit: 5, window: '1h', keyPrefix: uniquePrefix('rlpause'), logger: silentLogger })
    assert.equal((await limiter.check('k')).degraded, undefined)
    server.stall()
    try {
      const started = Date.now()
      const r = await limiter.check('k')
      assert.equal(r.degraded, 'fallback-local')
      assert.equal(r.allowed, true)
      assert.ok(Date.now() - started < 10_000)
    } finally {
      server.resume()
    }
  })
})

void describe('Fastify plugin on Redis', () => {
  void it('two app instances on one Redis share the limit', async () => {
    const { default: Fastify } = await import('fastify')
    const { rateLimitPlugin } = await import('../../src/coordination/rate-limit/fastify-plugin.ts')
    const connection = await connect({ url: redis8Url() })
    const store = createRedisRateLimitStore(connection)
    const keyPrefix = uniquePrefix('rlhttp')
    const apps = await Promise.all(
      [0, 1].map(async () => {
        const app = Fastify()
        await app.register(rateLimitPlugin, { store, keyPrefix, global: { limit: 3, window: '1h', algorithm: 'token-bucket' }, logger: silentLogger })
        app.get('/', () => 'ok')
        await app.ready()
        return app
      }),
    )
    try {
      const codes = []
      for (let i = 0; i < 5; i++) codes.push((await apps[i % 2]!.inject({ url: '/' })).statusCode)
      assert.deepEqual(codes, [200, 200, 200, 429, 429])
    } finally {
      for (const app of apps) await app.close()
      await deleteKeysWithPrefix(connection, keyPrefix)
      await connection.close()
    }
  })
})
