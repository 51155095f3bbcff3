// The CacheService contract on real Redis: Redis 8, Redis 7.0 (legacy) and a Redis Cluster. Every cache opened by one
// target shares one unique key prefix, so two createCache() calls are two "processes" on one deployment, each with
// its own connection (the L1 eviction test goes through real pub/sub).
import type { RedisConnectionOptions } from '../../src/cache/connection-options.ts'
import { createCache } from '../../src/cache/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { cacheContract } from '../helpers/cache-contract.ts'
import { redisTargets, uniquePrefix } from '../helpers/servers.ts'

for (const target of redisTargets()) {
  const keyPrefix = uniquePrefix(`cache-${target.name}`)
  const redis: RedisConnectionOptions = target.url !== undefined ? { url: target.url, keyPrefix } : { cluster: { nodes: target.clusterNodes! }, keyPrefix }
  cacheContract(target.name, (options) => createCache({ logger: silentLogger, ...options, redis }))
}
