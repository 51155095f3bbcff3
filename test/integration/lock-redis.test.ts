// The lock contract on Redis 8, Redis 7.0 and the cluster, plus the quorum store over three independent servers.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createRedisLockStore } from '../../src/coordination/lock/redis-lock-store.ts'
import { createQuorumLockStore } from '../../src/coordination/lock/quorum.ts'
import { createQuorumLock } from '../../src/coordination/lock/lock.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { lockContract } from '../contracts/lock-contract.ts'

for (const target of redisTargets()) {
  lockContract(target.name, async () => {
    const connection = await RedisConnection.connect(
      target.url ? { url: target.url, logger: silentLogger } : { cluster: { nodes: target.clusterNodes! }, logger: silentLogger },
    )
    const prefix = uniquePrefix('lock')
    const store = createRedisLockStore(connection, { keyPrefix: prefix })
    return {
      store,
      close: async () => {
        await deleteKeysWithPrefix(connection, prefix)
        await connection.close()
      },
    }
  })
}

void describe('quorum lock over three independent servers', () => {
  const servers: RedisProcess[] = []
  const connections: RedisConnection[] = []
  before(async () => {
    for (let i = 0; i < 3; i++) servers.push(await RedisProcess.start())
    for (const s of servers) connections.push(await RedisConnection.connect({ url: s.url, logger: silentLogger, commandTimeoutMs: 300 }))
  })
  after(async () => {
    for (const c of connections) await c.close()
    for (const s of servers) await s.kill()
  })

  lockContract('quorum', () =>
    Promise.resolve({ store: createQuorumLockStore(connections, { keyPrefix: uniquePrefix('qlock') }), close: () => Promise.resolve() }),
  )

  void it('keeps working with one master down, and fencing tokens still increase across changing majorities', async () => {
    const locks = createQuorumLock(connections, { keyPrefix: uniquePrefix('qlock-down'), logger: silentLogger, waitTimeout: '5s' })
    const tokens: number[] = []
    const first = await locks.acquire('res')
    tokens.push(first.fencingToken!)
    await first.release()
    // Push one master's counter far ahead, then take it out: the next majority must still hand out larger tokens.
    await servers[2]!.kill()
    for (let i = 0; i < 3; i++) {
      const lock = await locks.acquire('res')
      tokens.push(lock.fencingToken!)
      assert.equal(await lock.isOwned(), true)
      await lock.release()
    }
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens ${tokens.join(',')} must increase`)
    await servers[2]!.restart()
  })

  void it('a paused (unresponsive) master times out and the majority still serves locks', async () => {
    const locks = createQuorumLock(connections, { keyPrefix: uniquePrefix('qlock-pause'), logger: silentLogger, waitTimeout: '5s', ttl: '5s' })
    // The previous test restarted servers: let every connection come back first.
    await Promise.all(connections.map((c) => c.whenReady(15_000)))
    servers[0]!.stall()
    try {
      const lock = await locks.acquire('res')
      assert.equal(await lock.isOwned(), true)
      await lock.release()
    } finally {
      servers[0]!.resume()
    }
  })

  void it('refuses to hand out a lock when a majority is down, and rejects bad configuration', async () => {
    const locks = createQuorumLock(connections, { keyPrefix: uniquePrefix('qlock-maj'), logger: silentLogger, waitTimeout: 0 })
    await servers[1]!.kill()
    await servers[2]!.kill()
    await assert.rejects(locks.acquire('res'), /majority is out of reach/)
    await servers[1]!.restart()
    await servers[2]!.restart()
    assert.throws(() => createQuorumLockStore(connections.slice(0, 2)), /odd number \(>= 3\)/)
  })
})
