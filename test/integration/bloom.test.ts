// The Bloom contract on Redis 8, Redis 7.0 and the cluster: the Lua bit array on all three, and native BF.* on the
// servers that load RedisBloom (`npm run services` loads it into Redis 8 and the cluster; Redis 7.0 has none).
// Which servers have it is probed before registering, so no native test is registered where it cannot run.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryBloom, RedisBloom } from '../../src/coordination/bloom/index.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { redisTargets, uniquePrefix, type RedisTarget } from '../helpers/servers.ts'
import { bloomContract, measureFpr } from '../contracts/bloom-contract.ts'

async function hasNativeBloom(target: RedisTarget): Promise<boolean> {
  const connection = await connectTarget(target, uniquePrefix(`bloom-probe-${target.name}`))
  try {
    return connection.features!.bloom
  } finally {
    await connection.close()
  }
}

const targets = redisTargets()
const native = await Promise.all(targets.map(hasNativeBloom))

void test('bloom: the native RedisBloom path is exercised on the Redis 8 server (SKALDS_REDISBLOOM=off turns it off)', () => {
  assert.equal(native[0], process.env.SKALDS_REDISBLOOM !== 'off', 'REDIS_URL should load RedisBloom (scripts/lib/redisbloom.sh)')
})

for (const [index, target] of targets.entries()) {
  if (native[index]) {
    bloomContract(`${target.name} (native)`, async () => {
      const prefix = uniquePrefix(`bloom-native-${target.name}`)
      const a = await connectTarget(target, prefix)
      const b = await connectTarget(target, prefix)
      return {
        filters: new RedisBloom(a, { implementation: 'native' }),
        other: new RedisBloom(b, { implementation: 'native' }),
        cleanup: async () => {
          await a.close()
          await b.close()
        },
      }
    })
  }

  bloomContract(`${target.name} (lua)`, async () => {
    const prefix = uniquePrefix(`bloom-${target.name}`)
    const a = await connectTarget(target, prefix)
    const b = await connectTarget(target, prefix)
    return {
      filters: new RedisBloom(a, { implementation: 'lua' }),
      other: new RedisBloom(b, { implementation: 'lua' }),
      cleanup: async () => {
        await a.close()
        await b.close()
      },
    }
  })

  void test(`bloom on ${target.name}: auto picks native only where the server has BF.*, and native is refused without it`, async () => {
    const connection = await connectTarget(target, uniquePrefix(`bloom-auto-${target.name}`))
    try {
      const auto = new RedisBloom(connection)
      assert.equal(auto.implementation, connection.features!.bloom ? 'native' : 'lua')
      if (connection.features!.bloom) {
        const filter = await auto.create('native', { capacity: 100, errorRate: 0.01 })
        assert.equal(filter.info.implementation, 'native')
        assert.deepEqual(await filter.addMany(['a', 'b', 'a']), [true, true, false])
        assert.deepEqual(await filter.existsMany(['a', 'b', 'c']), [true, true, false])
      } else {
        await assert.rejects(new RedisBloom(connection, { implementation: 'native' }).create('n', { capacity: 10, errorRate: 0.01 }), (e: Error) =>
          e instanceof InvalidArgumentError && /RedisBloom module/.test(e.message),
        )
      }
    } finally {
      await connection.close()
    }
  })

  void test(`bloom on ${target.name}: the Lua script sets the very bits the in-process filter computes`, async () => {
    const connection = await connectTarget(target, uniquePrefix(`bloom-same-${target.name}`))
    try {
      const lua = await new RedisBloom(connection, { implementation: 'lua' }).create('same', { capacity: 2000, errorRate: 0.02 })
      const memory = await new MemoryBloom().create('same', { capacity: 2000, errorRate: 0.02 })
      const members = Array.from({ length: 2000 }, (_, i) => `m${i}`)
      await lua.addMany(members)
      await memory.addMany(members)
      const probes = Array.from({ length: 5000 }, (_, i) => `p${i}`)
      assert.deepEqual(await lua.existsMany(probes), await memory.existsMany(probes))
      const fpr = await measureFpr(new RedisBloom(connection, { implementation: 'lua' }), 'report', 10_000, 0.01, 20_000)
      console.log(`# bloom ${target.name} lua: FPR at capacity 10000 / target 0.01 = ${fpr}`)
    } finally {
      await connection.close()
    }
  })
}
