// Rate-limit counters on Redis: each check is one Lua call on one key, timed by the server's clock (TIME),
// so every process sharing the Redis shares the limit. Works on Redis 7.0+, single server or cluster.
import type { RedisConnection } from '../connection.ts'
import { loadLua, type LuaScript } from '../lua/index.ts'
import { ScriptCaller } from '../script-call.ts'
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
  #scripts: ScriptCaller

  /** `timeoutMs`: time a check may take, reply included; default the connection's `commandTimeoutMs`. */
  constructor(connection: RedisConnection, options: { timeoutMs?: number } = {}) {
    this.connection = connection
    this.#scripts = new ScriptCaller(connection, options)
  }

  async consume(key: string, policy: RateLimitPolicy, cost: number, nonce: string): Promise<RateLimitResult> {
    const redisKey = this.connection.key(key)
    const args: Array<string | number> = [policy.limit, policy.windowMs, cost]
    if (policy.algorithm === 'sliding-log') args.push(nonce)
    const [allowed, remaining, resetMs, retryAfterMs] = await this.#scripts.call<[number, number, number, number]>(SCRIPTS[policy.algorithm], [redisKey], args)
    return { allowed: allowed === 1, limit: policy.limit, remaining: Number(remaining), resetMs: Number(resetMs), retryAfterMs: Number(retryAfterMs) }
  }

  async reset(key: string): Promise<void> {
    const redisKey = this.connection.key(key)
    await this.connection.send(['DEL', redisKey], { key: redisKey })
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

export function createRedisRateLimitStore(connection: RedisConnection, options?: { timeoutMs?: number }): RedisRateLimitStore {
  return new RedisRateLimitStore(connection, options)
}
