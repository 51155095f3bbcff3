// RedisBackend on every Redis flavour: the CacheBackend contract, plus what only Redis can show (slot errors,
// the key prefix not applied twice, close() leaving the caller's connection open).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RedisBackend } from '../../src/cache/backends/redis.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import type { RedisConnectionOptions } from '../../src/redis/connection-options.ts'
import { CrossSlotError } from '../../src/redis/errors.ts'
import { slotOf } from '../../src/redis/slot.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { redisTargets, type RedisTarget, uniquePrefix } from '../helpers/servers.ts'
import { backendContract } from '../contracts/backend-contract.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

export function targetOptions(target: RedisTarget, extra: Partial<RedisConnectionOptions> = {}): RedisConnectionOptions {
  const base: RedisConnectionOptions = target.clusterNodes ? { cluster: { nodes: target.clusterNodes } } : { url: target.url }
  return { ...base, logger: silentLogger, ...extra }
}

for (const target of redisTargets()) {
  backendContract(`redis (${target.name})`, async () => {
    const connection = await RedisConnection.connect(targetOptions(target))
    const backend = new RedisBackend(connection)
    return {
      backend,
      prefix: uniquePrefix(`backend-${target.name}`),
      close: async () => {
        await backend.close()
        await connection.close()
      },
    }
  })

  void describe(`RedisBackend specifics: ${target.name}`, () => {
    let connection: RedisConnection
    let backend: RedisBackend
    let prefix: string

    before(async () => {
      prefix = uniquePrefix(`backend-x-${target.name}`)
      connection = await RedisConnection.connect(targetOptions(target, { keyPrefix: prefix }))
      backend = new RedisBackend(connection)
    })

    after(async () => {
      await backend.deleteMatching(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`)
      await backend.close()
      await connection.close()
    })

    void it('uses keys as given: the connection keyPrefix is not applied a second time', async () => {
      const key = connection.key('plain')
      assert.equal(key, `${prefix}plain`)
      await backend.set(key, 'v')
      assert.equal(await connection.send(['GET', key], { key }), 'v')
      const doubled = connection.key(key)
      assert.equal(await connection.send(['EXISTS', doubled], { key: doubled }), 0)
    })

    // Only a cluster has slots to cross.
    if (target.clusterNodes) {
      void it('a multi-key command over two slots surfaces as CrossSlotError with a clear message', async () => {
        const a = connection.key('cross-a')
        let b = connection.key('cross-b')
        for (let i = 0; slotOf(b) === slotOf(a); i++) b = connection.key(`cross-b${i}`)
        await assert.rejects(connection.send(['MGET', a, b], { key: a }), (error: unknown) => {
          assert.ok(error instanceof CrossSlotError, `got ${String(error)}`)
          assert.equal(error.code, 'E_REDIS_CROSSSLOT')
          assert.match(error.message, /different cluster slots/)
          return true
        })
        // the backend itself never sends such a command
        assert.deepEqual(await backend.getMany([a, b]), [undefined, undefined])
      })
    }

    void it('close() closes the subscriber it opened, not the connection it was given', async () => {
      const own = new RedisBackend(connection)
      const got: string[] = []
      await own.subscribe(connection.key('ch'), (m) => got.push(m))
      await own.publish(connection.key('ch'), 'hello')
      await waitFor(() => got.includes('hello'), 'message delivered')
      await own.close()
      assert.equal(connection.closed, false)
      assert.equal(await connection.send(['PING']), 'PONG')
      await backend.publish(connection.key('ch'), 'after-close')
      await sleep(200)
      assert.deepEqual(got, ['hello'])
    })

    void it('info sums used_memory and DBSIZE over every master', async () => {
      // Other test files write to the same servers meanwhile: bracket info() between two DBSIZE sums.
      const dbsize = async (): Promise<number> => {
        let sum = 0
        for (const master of await connection.masters()) sum += Number(await master.send(['DBSIZE']))
        return sum
      }
      const before = await dbsize()
      const info = await backend.info()
      const after = await dbsize()
      assert.ok(info.usedMemoryBytes! > 0)
      const low = Math.min(before, after) - 1000
      const high = Math.max(before, after) + 1000
      assert.ok(info.keys! >= low && info.keys! <= high, `info ${info.keys} vs dbsize ${before}..${after}`)
    })
  })
}
