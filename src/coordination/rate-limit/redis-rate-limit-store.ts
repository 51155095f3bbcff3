// Rate-limit counters on Redis: each check is one Lua call on one key, timed by the server's clock (TIME),
// so every process sharing the Redis shares the limit. Works on Redis 7.0+, single server or cluster.
import type { Duration } from '../../config/duration.ts'
import { duration, optionsObject, parseOptions, renamed } from '../../config/options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { luaLoader, type LuaScript } from '../../redis/lua.ts'
import { BatchedScript, ScriptCaller } from '../../redis/script-call.ts'
import type { RateLimitAlgorithm, RateLimitPolicy, RateLimitResult, RateLimitStore } from './types.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const SCRIPTS: Record<RateLimitAlgorithm, LuaScript> = {
  'fixed-window': loadLua('ratelimit-fixed-1.lua'),
  'sliding-log': loadLua('ratelimit-sliding-log-1.lua'),
  'sliding-window': loadLua('ratelimit-sliding-counter-1.lua'),
  'token-bucket': loadLua('ratelimit-token-bucket-1.lua'),
}

// Inline in the public signatures: a named type would have to be exported from index.ts.
type StoreOptions = { timeout?: Duration; timeoutMs?: number }

const storeSchema = optionsObject({ timeout: duration({ positive: true }).optional(), timeoutMs: duration({ positive: true }).optional() }).superRefine((o, ctx) =>
  renamed(o, ctx, 'timeout', 'timeoutMs'),
)

/** Validates the store's options; bad input throws InvalidArgumentError (`RedisRateLimitStore: field: reason`). */
export function resolveRedisRateLimitStoreOptions(options: StoreOptions | undefined): { timeoutMs: number | undefined } {
  const o = parseOptions(storeSchema, options ?? {}, (message) => new InvalidArgumentError(message), 'RedisRateLimitStore')
  return { timeoutMs: o.timeout ?? o.timeoutMs }
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const
  readonly connection: RedisConnection
  #batches: Record<RateLimitAlgorithm, BatchedScript>
  #caller: ScriptCaller

  /**
   * `timeout`: time a check may take, reply included; default the connection's `commandTimeout`.
   * `timeoutMs` is its deprecated name (a number of ms).
   */
  constructor(
    connection: RedisConnection,
    options: {
      timeout?: Duration
      /** @deprecated use `timeout` (same value, in ms). */
      timeoutMs?: number
    } = {},
  ) {
    this.connection = connection
    const caller = new ScriptCaller(connection, { timeoutMs: resolveRedisRateLimitStoreOptions(options).timeoutMs })
    this.#caller = caller
    const batch = (algorithm: RateLimitAlgorithm): BatchedScript =>
      new BatchedScript(caller, SCRIPTS[algorithm], { keysPerEntry: 1, argsPerEntry: algorithm === 'sliding-log' ? 4 : 3, repliesPerEntry: 4 })
    this.#batches = {
      'fixed-window': batch('fixed-window'),
      'sliding-log': batch('sliding-log'),
      'sliding-window': batch('sliding-window'),
      'token-bucket': batch('token-bucket'),
    }
  }

  async consume(key: string, policy: RateLimitPolicy, cost: number, nonce: string): Promise<RateLimitResult> {
    const redisKey = this.connection.key(key)
    const args: Array<string | number> = [policy.limit, policy.windowMs, cost]
    if (policy.algorithm === 'sliding-log') args.push(nonce)
    const [allowed, remaining, resetMs, retryAfterMs] = (await this.#batches[policy.algorithm].run([redisKey], args)) as [number, number, number, number]
    return { allowed: allowed === 1, limit: policy.limit, remaining: Number(remaining), resetMs: Number(resetMs), retryAfterMs: Number(retryAfterMs) }
  }

  async reset(key: string): Promise<void> {
    const redisKey = this.connection.key(key)
    await this.#caller.command(['DEL', redisKey], redisKey)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

export function createRedisRateLimitStore(
  connection: RedisConnection,
  options?: {
    timeout?: Duration
    /** @deprecated use `timeout` (same value, in ms). */
    timeoutMs?: number
  },
): RedisRateLimitStore {
  return new RedisRateLimitStore(connection, options)
}
