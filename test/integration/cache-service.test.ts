// The CacheService contract on real Redis: Redis 8, Redis 7.0 (legacy) and a Redis Cluster. Every cache opened by one
// target shares one unique key prefix, so two createCache() calls are two "processes" on one deployment, each with
// its own connection (the L1 eviction test goes through real pub/sub).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RedisConnectionOptions } from '../../src/redis/connection-options.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createCache } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { cacheContract } from '../contracts/cache-contract.ts'
import { redis8Url, redisTargets, uniquePrefix } from '../helpers/servers.ts'

for (const target of redisTargets()) {
  const keyPrefix = uniquePrefix(`cache-${target.name}`)
  const redis: RedisConnectionOptions = target.url !== undefined ? { url: target.url, keyPrefix } : { cluster: { nodes: target.clusterNodes! }, keyPrefix }
  cacheContract(target.name, (options) => createCache({ logger: silentLogger, ...options, redis }))
}

void test('createCache({ redis: connection }) uses an open connection and its prefix, and leaves it open on close()', async () => {
  const keyPrefix = uniquePrefix('shared-connection')
  const connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix })
  try {
    const cache = await createCache({ redis: connection, namespace: 'app', logger: silentLogger })
    await cache.set('k', { v: 1 })
    assert.equal(await connection.send(['GET', `${keyPrefix}app:k`]), '{"v":1}', 'stored as plain JSON under <prefix><namespace>:<key>')
    await cache.close()
    assert.equal(connection.closed, false)
    assert.equal(await connection.send(['DEL', `${keyPrefix}app:k`]), 1)
  } finally {
    await connection.close()
  }
})
