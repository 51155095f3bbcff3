// Connects to one of the Redis targets of test/helpers/servers.ts with a unique key prefix.
import { RedisConnection } from '../../src/redis/connection.ts'
import { silentLogger } from '../../src/config/logger.ts'
import type { RedisTarget } from './servers.ts'

export function connectTarget(target: RedisTarget, keyPrefix: string): Promise<RedisConnection> {
  return RedisConnection.connect({
    ...(target.clusterNodes ? { cluster: { nodes: target.clusterNodes } } : { url: target.url! }),
    keyPrefix,
    commandTimeoutMs: 5000,
    logger: silentLogger,
  })
}
