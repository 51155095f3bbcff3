// The pub/sub contract on Redis 8, Redis 7.0 and the cluster; sharded pub/sub on the cluster; resubscription after
// a server restart on a throwaway redis-server.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { RedisConnection } from '../../src/redis/connection.ts'
import { RedisPubSub } from '../../src/coordination/pubsub/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { redisClusterNodes, redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { sleep, waitFor, within } from '../helpers/wait.ts'
import { pubsubContract } from '../contracts/pubsub-contract.ts'

for (const target of redisTargets()) {
  pubsubContract(target.name, async () => {
    const prefix = uniquePrefix(`pubsub-${target.name}`)
    const a = await connectTarget(target, prefix)
    const b = await connectTarget(target, prefix)
    const publisher = new RedisPubSub(a, { logger: silentLogger })
    const subscriber = new RedisPubSub(b, { logger: silentLogger })
    return {
      publisher,
      subscriber,
      cleanup: async () => {
        await publisher.close()
        await subscriber.close()
        await a.close()
        await b.close()
      },
    }
  })
}

void describe('pubsub on the cluster', () => {
  let connection: RedisConnection
  before(async () => {
    connection = await connectTarget({ name: 'cluster', clusterNodes: redisClusterNodes() }, uniquePrefix('pubsub-shard'))
  })
  after(async () => {
    await connection.close()
  })

  void test('channels use sharded pub/sub (SSUBSCRIBE on the slot owner) by default, and plain pub/sub on request', async () => {
    const pubsub = new RedisPubSub(connection, { logger: silentLogger })
    assert.equal(pubsub.transport.shardedByDefault, true)
    const channels = Array.from({ length: 6 }, (_, i) => `shard-${i}`)
    const subs = await Promise.all(channels.map((c) => pubsub.subscribe<number>(c)))
    for (const [i, channel] of channels.entries()) {
      const full = connection.key(channel)
      const reply = (await connection.send<unknown[]>(['PUBSUB', 'SHARDNUMSUB', full], { key: full })).map(String)
      assert.deepEqual(reply, [full, '1'], `${channel} is shard-subscribed on its slot's master`)
      assert.equal(await pubsub.publish(channel, i), 1)
      assert.equal((await within(subs[i]!.next(), channel)).value!.data, i)
    }
    const plain = await pubsub.subscribe<string>('plain', { sharded: false })
    const full = connection.key('plain')
    const shardCount = (await connection.send<unknown[]>(['PUBSUB', 'SHARDNUMSUB', full], { key: full })).map(String)
    assert.deepEqual(shardCount, [full, '0'])
    await pubsub.publish('plain', 'x', { sharded: false })
    assert.equal((await within(plain.next(), 'plain')).value!.data, 'x')
    await pubsub.close()
  })
})

void describe('pubsub resubscribes after the server restarts', () => {
  let server: RedisProcess

  before(async () => {
    server = await RedisProcess.start()
  })
  after(async () => {
    await server.kill()
  })

  void test('a subscriber keeps receiving after a kill and restart on the same port', async () => {
    const options = { url: server.url, logger: silentLogger, reconnect: { minDelayMs: 50, maxDelayMs: 300 } }
    const subConnection = await RedisConnection.connect(options)
    const pubConnection = await RedisConnection.connect(options)
    const subscriber = new RedisPubSub(subConnection, { logger: silentLogger })
    const publisher = new RedisPubSub(pubConnection, { logger: silentLogger })
    try {
      const updates = await subscriber.subscribe<string>('status')
      const pattern = await subscriber.pSubscribe<string>('status*')
      await publisher.publish('status', 'before')
      assert.equal((await within(updates.next(), 'before')).value!.data, 'before')
      assert.equal((await within(pattern.next(), 'before (pattern)')).value!.data, 'before')

      await server.kill()
      await sleep(300)
      await server.restart()

      // Publish until the resubscribed connection receives (the receiver count says when the server has it again).
      await waitFor(
        async () => {
          try {
            return (await publisher.publish('status', 'after')) === 2
          } catch {
            return false
          }
        },
        'the channel and the pattern to be resubscribed',
        20_000,
        100,
      )
      assert.equal((await within(updates.next(), 'after')).value!.data, 'after')
      assert.equal((await within(pattern.next(), 'after (pattern)')).value!.data, 'after')
    } finally {
      await subscriber.close()
      await publisher.close()
      await subConnection.close()
      await pubConnection.close()
    }
  })
})
