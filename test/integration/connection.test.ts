// RedisConnection against real servers: the shared Redis 8 / 7.0 / cluster targets, and throwaway redis-server
// processes this file spawns (password, ACL, stall, kill, restart).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RedisConnection } from '../../src/redis/connection.ts'
import { RedisAuthError, RedisTimeoutError, RedisTopologyError, RedisUnavailableError } from '../../src/redis/errors.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { freePort, onFreePort } from '../helpers/ports.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { redis8Url, redisClusterNodes, redisLegacyUrl, redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { waitFor } from '../helpers/wait.ts'

const quiet = { logger: silentLogger }

async function elapsed<T>(run: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = Date.now()
  const [result] = await Promise.allSettled([run()])
  return { ms: Date.now() - started, result }
}

function rejection(result: PromiseSettledResult<unknown>): unknown {
  assert.equal(result.status, 'rejected', 'expected a rejection')
  return result.reason
}

void describe('RedisConnection on the shared servers', () => {
  for (const target of redisTargets()) {
    void it(`${target.name}: connects, reports features, sends commands`, async () => {
      const connection = await RedisConnection.connect(
        target.clusterNodes ? { cluster: { nodes: target.clusterNodes }, ...quiet } : { url: target.url!, ...quiet },
      )
      try {
        const features = connection.features!
        assert.ok(features, 'features are probed before connect() resolves')
        assert.equal(connection.isReady, true)
        assert.equal(features.server, 'redis')
        if (target.name === 'redis8') {
          assert.ok(features.major >= 8, features.version)
          assert.equal(features.hashFieldTtl, true)
        }
        if (target.name === 'redis7-legacy') {
          assert.equal(features.major, 7)
          assert.equal(features.hashFieldTtl, false)
        }
        assert.equal(connection.isCluster, target.name === 'cluster')
        assert.equal(features.clusterEnabled, target.name === 'cluster')
        assert.equal(await connection.send(['PING']), 'PONG')
        const masters = await connection.masters()
        assert.equal(masters.length, target.name === 'cluster' ? redisClusterNodes().length : 1)
      } finally {
        await connection.close()
      }
    })
  }

  void it('keyPrefix is applied by key(), and scan() walks every master', async () => {
    const prefix = uniquePrefix('conn-scan')
    const connection = await RedisConnection.connect({ cluster: { nodes: redisClusterNodes() }, keyPrefix: prefix, ...quiet })
    try {
      assert.equal(connection.key('a'), `${prefix}a`)
      const keys = Array.from({ length: 100 }, (_, i) => connection.key(`k${i}`))
      await Promise.all(keys.map((key) => connection.send(['SET', key, '1', 'PX', '60000'], { key })))
      const seen = new Set<string>()
      for await (const batch of connection.scan(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, { count: 10 })) for (const key of batch) seen.add(key)
      assert.equal(seen.size, 100)
      await Promise.all(keys.map((key) => connection.send(['UNLINK', key], { key })))
    } finally {
      await connection.close()
    }
  })

  void it('a database index in the URL selects that database', async () => {
    const url = new URL(redis8Url())
    url.pathname = '/3'
    const connection = await RedisConnection.connect({ url: url.toString(), ...quiet })
    try {
      const info = String(await connection.send(['CLIENT', 'INFO']))
      assert.match(info, /\bdb=3\b/)
    } finally {
      await connection.close()
    }
  })

  void it('a cluster node given as a single server fails with RedisTopologyError saying what to do', async () => {
    const node = redisClusterNodes()[0]!
    const { result } = await elapsed(() => RedisConnection.connect({ url: `redis://${node}`, ...quiet }))
    const error = rejection(result)
    assert.ok(error instanceof RedisTopologyError, String(error))
    assert.match(error.message, /cluster_enabled:1/)
    assert.match(error.message, /cluster: \{ nodes/)
  })

  void it('duplicate() keeps the original options and applies overrides on top (cluster stays a cluster)', async () => {
    const connection = await RedisConnection.connect({ cluster: { nodes: redisClusterNodes() }, keyPrefix: 'dup:', ...quiet })
    const copy = await connection.duplicate({ commandTimeoutMs: 4321 })
    try {
      assert.equal(copy.isCluster, true)
      assert.equal(copy.keyPrefix, 'dup:')
      assert.equal(copy.options.commandTimeoutMs, 4321)
      assert.equal((await copy.masters()).length, redisClusterNodes().length)
      assert.equal(await copy.send(['PING']), 'PONG')
    } finally {
      await copy.close()
      await connection.close()
    }
    assert.equal(await connection.send(['PING']).catch((e: unknown) => e instanceof RedisUnavailableError), true)
  })

  void it('the legacy server is reachable through its URL too', async () => {
    const connection = await RedisConnection.connect({ url: redisLegacyUrl(), ...quiet })
    await connection.close()
    assert.equal(connection.closed, true)
    await assert.rejects(connection.send(['PING']), RedisUnavailableError)
  })
})

void describe('RedisConnection failures on a throwaway redis-server', () => {
  void it('unreachable port: RedisUnavailableError within connectTimeoutMs', async () => {
    const port = await freePort()
    const { ms, result } = await elapsed(() => RedisConnection.connect({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 800, ...quiet }))
    const error = rejection(result)
    assert.ok(error instanceof RedisUnavailableError, String(error))
    assert.match(error.message, /not reachable within 800 ms/)
    assert.match(error.message, /ECONNREFUSED/)
    assert.ok(ms < 800 + 2000, `took ${ms} ms`)
  })

  void it('waitForReady: false returns at once and comes up by itself when the server starts later', async () => {
    // The client is aimed at the port before the server exists: if someone takes the port meanwhile, start over on
    // another one.
    await onFreePort(async (port) => {
      const connection = await RedisConnection.connect({ url: `redis://127.0.0.1:${port}`, waitForReady: false, reconnect: { maxDelayMs: 200 }, ...quiet })
      let server: RedisProcess | undefined
      try {
        assert.equal(connection.isReady, false)
        await assert.rejects(connection.send(['PING']), RedisUnavailableError)
        server = await RedisProcess.start([], port)
        const features = await connection.whenReady(10_000)
        assert.equal(features.server, 'redis')
        assert.equal(await connection.send(['PING']), 'PONG')
      } finally {
        await connection.close()
        await server?.kill()
      }
    })
  })

  void describe('with a password', () => {
    let server: RedisProcess
    before(async () => {
      server = await RedisProcess.start(['--requirepass', 'right-password'])
    })
    after(async () => {
      await server.kill()
    })

    void it('a wrong password fails with RedisAuthError, fast (not after the connect timeout)', async () => {
      const { ms, result } = await elapsed(() =>
        RedisConnection.connect({ url: `redis://:wrong@127.0.0.1:${server.port}`, connectTimeoutMs: 10_000, ...quiet }),
      )
      const error = rejection(result)
      assert.ok(error instanceof RedisAuthError, String(error))
      assert.equal(error.code, 'E_REDIS_AUTH')
      assert.match(error.message, /authentication failed/)
      assert.match(error.message, /WRONGPASS/)
      assert.ok(ms < 5000, `took ${ms} ms, the connect timeout is 10000`)
    })

    void it('no password on a protected server fails with RedisAuthError', async () => {
      const { result } = await elapsed(() => RedisConnection.connect({ url: server.url, connectTimeoutMs: 10_000, ...quiet }))
      assert.ok(rejection(result) instanceof RedisAuthError)
    })

    void it('an ACL user with its password works; a wrong one for that user fails naming the user', async () => {
      const admin = await RedisConnection.connect({ url: server.url, password: 'right-password', ...quiet })
      try {
        await admin.send(['ACL', 'SETUSER', 'cache-app', 'reset', 'on', '>app-secret', '~*', '&*', '+@all'])
        const app = await RedisConnection.connect({ url: server.url, username: 'cache-app', password: 'app-secret', ...quiet })
        assert.equal(await app.send(['ACL', 'WHOAMI']), 'cache-app')
        await app.close()
        const { result } = await elapsed(() => RedisConnection.connect({ url: `redis://cache-app:nope@127.0.0.1:${server.port}`, ...quiet }))
        const error = rejection(result)
        assert.ok(error instanceof RedisAuthError, String(error))
        assert.match(error.message, /cache-app/)
      } finally {
        await admin.close()
      }
    })
  })

  void describe('stall, kill and restart', () => {
    let server: RedisProcess
    let connection: RedisConnection
    before(async () => {
      server = await RedisProcess.start()
      connection = await RedisConnection.connect({ url: server.url, commandTimeoutMs: 300, reconnect: { maxDelayMs: 200 }, ...quiet })
    })
    after(async () => {
      await connection.close()
      await server.kill()
    })

    void it('a stalled (SIGSTOPped) server: the command fails with RedisTimeoutError at the command timeout', async () => {
      await connection.send(['SET', 'before-stall', '1'])
      server.stall()
      try {
        const { ms, result } = await elapsed(() => connection.send(['GET', 'before-stall']))
        const error = rejection(result)
        assert.ok(error instanceof RedisTimeoutError, String(error))
        assert.match(error.message, /300 ms/)
        assert.ok(ms >= 290 && ms < 3000, `took ${ms} ms`)
      } finally {
        server.resume()
      }
      // after the resume, replies line up again (the late reply is dropped, not given to the next command)
      await waitFor(async () => (await connection.send(['PING']).catch(() => 'x')) === 'PONG', 'the server answers again')
      assert.equal(await connection.send(['SET', 'after-stall', 'v']), 'OK')
      assert.equal(await connection.send(['GET', 'after-stall']), 'v')
    })

    void it('while the server is down commands fail at once (no unbounded offline queue); it reconnects by itself', async () => {
      const downs: Error[] = []
      connection.on('down', (error) => downs.push(error))
      await server.kill()
      await waitFor(() => !connection.isReady, 'the connection notices')
      const { ms, result } = await elapsed(() => connection.send(['GET', 'x']))
      const error = rejection(result)
      assert.ok(error instanceof RedisUnavailableError, String(error))
      assert.ok(ms < 250, `an offline command must fail at once, took ${ms} ms`)
      assert.ok(downs.length > 0, 'a down event was emitted')
      const subscribing = await elapsed(() => connection.subscriber())
      assert.ok(rejection(subscribing.result) instanceof RedisUnavailableError, 'a subscriber cannot open while the server is down')
      assert.ok(subscribing.ms < 3000 + 2000, `opening a subscriber gave up after ${subscribing.ms} ms (connectTimeoutMs 3000)`)
      const readies: unknown[] = []
      connection.on('ready', (features) => readies.push(features))
      await server.restart()
      await waitFor(async () => (await connection.send(['PING']).catch(() => 'x')) === 'PONG', 'the connection reconnects by itself')
      await waitFor(() => readies.length > 0, 'ready is emitted again')
      assert.equal(connection.isReady, true)
    })
  })
})
