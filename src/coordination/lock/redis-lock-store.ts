// Locks on one Redis deployment (single server, Sentinel or Cluster): SET NX PX + a same-slot fencing counter,
// owner-checked release and extend, each one Lua call.
import { z } from 'zod'
import type { Duration } from '../../config/duration.ts'
import { duration, optionsObject, parseOptions, renamed } from '../../config/options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { luaLoader } from '../../redis/lua.ts'
import { BatchedScript, ScriptCaller } from '../../redis/script-call.ts'
import { companionKey } from '../../redis/slot.ts'
import type { AcquireAttempt, LockStore } from './lock-store.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const ACQUIRE = loadLua('lock-acquire-2.lua')
const RELEASE = loadLua('lock-release-1.lua')
const EXTEND = loadLua('lock-extend-1.lua')
const RAISE_FENCE = loadLua('lock-raise-fence-1.lua')

export interface RedisLockStoreOptions {
  /** Prefix of lock keys, after the connection's own `keyPrefix`. Default `lock:`. */
  keyPrefix?: string
  /** Time a lock command may take, reply included. Default the connection's `commandTimeout`. */
  timeout?: Duration
  /** @deprecated use `timeout` (same value, in ms). */
  timeoutMs?: number
}

const redisLockStoreSchema = optionsObject({
  keyPrefix: z.string().optional(),
  timeout: duration({ positive: true }).optional(),
  timeoutMs: duration({ positive: true }).optional(),
}).superRefine((o, ctx) => renamed(o, ctx, 'timeout', 'timeoutMs'))

/** Validates RedisLockStore options; bad input throws InvalidArgumentError (`RedisLockStore: field: reason`). */
export function resolveRedisLockStoreOptions(options: RedisLockStoreOptions | undefined): { keyPrefix: string; timeoutMs: number | undefined } {
  const o = parseOptions(redisLockStoreSchema, options ?? {}, (message) => new InvalidArgumentError(message), 'RedisLockStore')
  return { keyPrefix: o.keyPrefix ?? 'lock:', timeoutMs: o.timeout ?? o.timeoutMs }
}

/** The Redis keys of one lock: the lock itself and its fencing counter (same slot, never expires). */
export function lockKeys(connection: RedisConnection, prefix: string, key: string): { lock: string; fence: string } {
  const lock = connection.key(prefix + key)
  const fence = companionKey(lock, ':fence')
  return { lock, fence }
}

export class RedisLockStore implements LockStore {
  readonly kind = 'redis' as const
  readonly connection: RedisConnection
  #prefix: string
  #scripts: ScriptCaller
  #acquire: BatchedScript
  #release: BatchedScript

  constructor(connection: RedisConnection, options: RedisLockStoreOptions = {}) {
    this.connection = connection
    const o = resolveRedisLockStoreOptions(options)
    this.#prefix = o.keyPrefix
    this.#scripts = new ScriptCaller(connection, { timeoutMs: o.timeoutMs })
    this.#acquire = new BatchedScript(this.#scripts, ACQUIRE, { keysPerEntry: 2, argsPerEntry: 3, repliesPerEntry: 2 })
    this.#release = new BatchedScript(this.#scripts, RELEASE, { keysPerEntry: 1, argsPerEntry: 1, repliesPerEntry: 1 })
  }

  async tryAcquire(key: string, owner: string, ttlMs: number, fenceFloor = 0): Promise<AcquireAttempt> {
    const keys = lockKeys(this.connection, this.#prefix, key)
    const [ok, value] = (await this.#acquire.run([keys.lock, keys.fence], [owner, ttlMs, fenceFloor])) as [number, number]
    // The server starts the TTL after the call was sent, so the whole TTL counts from the call's start.
    if (ok === 1) return { acquired: true, fencingToken: Number(value), validityMs: ttlMs }
    return { acquired: false, holderTtlMs: Number(value) }
  }

  async release(key: string, owner: string): Promise<boolean> {
    const lock = this.connection.key(this.#prefix + key)
    const [released] = await this.#release.run([lock], [owner])
    return released === 1
  }

  async extend(key: string, owner: string, ttlMs: number): Promise<number> {
    const lock = this.connection.key(this.#prefix + key)
    const ok = await this.#scripts.call<number>(EXTEND, [lock], [owner, ttlMs])
    return ok === 1 ? ttlMs : 0
  }

  async ownerOf(key: string): Promise<string | undefined> {
    const lock = this.connection.key(this.#prefix + key)
    const value = await this.#scripts.command<string | null>(['GET', lock], lock)
    return value ?? undefined
  }

  /** Raises the fencing counter of `key` to at least `value` (quorum mode). */
  async raiseFence(key: string, value: number): Promise<number> {
    const { fence } = lockKeys(this.connection, this.#prefix, key)
    return Number(await this.#scripts.call<number>(RAISE_FENCE, [fence], [value]))
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

export function createRedisLockStore(connection: RedisConnection, options?: RedisLockStoreOptions): RedisLockStore {
  return new RedisLockStore(connection, options)
}
