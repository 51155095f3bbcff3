// Rate-limit counters on Redis: each check is one Lua call on one key, timed by the server's clock (TIME),
// so every process sharing the Redis shares the limit. Works on Redis 7.0+, single server or cluster.
import type { RedisConnection } from '../connection.ts'
import { loadLua, type LuaScript } from '../lua/index.ts'
import type { RateLimitAlgorithm, RateLimitPolicy, RateLimitResult, RateLimitStore } from './limiter.ts'

const SCRIPTS: Record<RateLimitAlgorithm, LuaScript> = {
  'fixed-window': loadLua('ratelimit-fixed-1.lua'),
  'sliding-log': loadLua('ratelimit-sliding-log-1.lua'),
  'sliding-window': loadLua('ratelimit-sliding-counter-1.lua'),
  'token-bucket': loadLua('ratelimit-token-bucket-1.lua'),
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const
  readonly connection: RedisConnection

  constructor(connection: RedisConnection) {
    this.connection = connection
  }

  async consume(key: string, policy: RateLimitPolicy, cost: number, nonce: string): Promise<Omit<RateLimitResult, 'limit' | 'degraded'>> {
    const redisKey = this.connection.key(key)
    const args: Array<string | number> = [policy.limit, policy.windowMs, cost]
    if (policy.algorithm === 'sliding-log') args.push(nonce)
    const [allowed, remaining, resetMs, retryAfterMs] = await this.connection.evalScript<[number, number, number, number]>(SCRIPTS[policy.algorithm], [redisKey], args)
    return { allowed: allowed === 1, remaining: Number(remaining), resetMs: Number(resetMs), retryAfterMs: Number(retryAfterMs) }
  }

  async reset(key: string): Promise<void> {
    const redisKey = this.connection.key(key)
    await this.connection.send(['DEL', redisKey], { key: redisKey })
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

export function createRedisRateLimitStore(connection: RedisConnection): RedisRateLimitStore {
  return new RedisRateLimitStore(connection)
}
