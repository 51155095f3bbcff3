// Bloom filters on Redis: RedisBloom's BF.* where the server has it, otherwise a bit array driven by Lua scripts
// on plain Redis. Same interface, same semantics (a fixed capacity; BF.RESERVE ... NONSCALING).
import { z } from 'zod'
import { oneOf, optionsObject, parseOptions } from '../../config/options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError, RedisCommandError } from '../../redis/errors.ts'
import { luaLoader } from '../../redis/lua.ts'
import { companionKey } from '../../redis/slot.ts'
import { BloomNotFoundError } from './errors.ts'
import type { BloomFilter, BloomFilterInfo, BloomFilters } from './filter.ts'
import { mismatch } from './memory.ts'
import { resolveBloomOptions, checkItem, checkItems, checkName, type BloomOptions } from './params.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const reserveScript = loadLua('bloom-reserve-1.lua')
const addScript = loadLua('bloom-add-2.lua')
const existsScript = loadLua('bloom-exists-2.lua')

/** Items per round trip: bounds how long one script (or BF.MADD) holds the server. */
const BATCH = 1000

export interface RedisBloomOptions {
  /**
   * `auto` (default): native BF.* when the server has RedisBloom, Lua otherwise. `native` fails on a server without
   * it; `lua` always uses the bit array (e.g. to keep one implementation across mixed servers).
   */
  implementation?: 'auto' | 'native' | 'lua'
  /** Prefix of filter keys, after the connection's keyPrefix. Default `bloom:`. */
  keyPrefix?: string
}

const redisBloomSchema = optionsObject({
  implementation: oneOf(['auto', 'native', 'lua']).optional(),
  keyPrefix: z.string({ error: 'must be a string' }).optional(),
})

/** Validates RedisBloom options; bad input throws InvalidArgumentError (`RedisBloom: field: reason`). */
export function resolveRedisBloomOptions(options: RedisBloomOptions | undefined): { implementation: 'auto' | 'native' | 'lua'; keyPrefix: string } {
  const o = parseOptions(redisBloomSchema, options ?? {}, (message) => new InvalidArgumentError(message), 'RedisBloom')
  return { implementation: o.implementation ?? 'auto', keyPrefix: o.keyPrefix ?? 'bloom:' }
}

export class RedisBloom implements BloomFilters {
  readonly #connection: RedisConnection
  readonly #implementation: 'auto' | 'native' | 'lua'
  readonly #keyPrefix: string

  constructor(connection: RedisConnection, options: RedisBloomOptions = {}) {
    const o = resolveRedisBloomOptions(options)
    this.#connection = connection
    this.#implementation = o.implementation
    this.#keyPrefix = o.keyPrefix
  }

  /** Which implementation `create` uses on this connection. */
  get implementation(): 'native' | 'lua' {
    if (this.#implementation !== 'auto') return this.#implementation
    return this.#connection.features?.bloom ? 'native' : 'lua'
  }

  async create(name: string, options: BloomOptions): Promise<BloomFilter> {
    checkName(name)
    const params = resolveBloomOptions(options)
    const key = this.#connection.key(this.#keyPrefix + name)
    if (this.implementation === 'native') {
      if (!this.#connection.features?.bloom) {
        throw new InvalidArgumentError(`implementation: 'native' needs the RedisBloom module (BF.*), which this server does not have`)
      }
      return this.#createNative(name, key, params)
    }
    const metaKey = companionKey(key, ':meta')
    const bitsKey = companionKey(key, ':bits')
    const reply = await this.#connection.evalScript<unknown[]>(reserveScript, [metaKey], [params.bits, params.hashes, params.capacity, params.errorRate])
    const [bits, hashes, capacity, errorRate] = reply.slice(0, 4).map(Number) as [number, number, number, number]
    if (capacity !== params.capacity || errorRate !== params.errorRate) throw mismatch(name, { capacity, errorRate }, params)
    const info: BloomFilterInfo = { name, implementation: 'lua', capacity, errorRate, bits, hashes }
    return new LuaBloomFilter(this.#connection, info, metaKey, bitsKey)
  }

  async #createNative(name: string, key: string, params: BloomOptions): Promise<BloomFilter> {
    try {
      await this.#connection.send(['BF.RESERVE', key, String(params.errorRate), String(params.capacity), 'NONSCALING'], { key })
    } catch (error) {
      if (!(error instanceof RedisCommandError) || !/exists/i.test(error.message)) throw error
      const fields = await this.#connection.send<unknown[]>(['BF.INFO', key], { key })
      const capacity = Number(infoField(fields, 'Capacity'))
      if (capacity !== params.capacity) throw mismatch(name, { capacity }, params)
    }
    return new NativeBloomFilter(this.#connection, { name, implementation: 'native', capacity: params.capacity, errorRate: params.errorRate }, key)
  }
}

function infoField(reply: unknown, field: string): unknown {
  if (reply instanceof Map) return reply.get(field)
  if (Array.isArray(reply)) {
    const index = reply.findIndex((entry) => String(entry) === field)
    return index >= 0 ? reply[index + 1] : undefined
  }
  if (reply && typeof reply === 'object') return (reply as Record<string, unknown>)[field]
  return undefined
}

async function batched(items: readonly string[], run: (batch: string[]) => Promise<unknown[]>): Promise<boolean[]> {
  const out: boolean[] = []
  for (let i = 0; i < items.length; i += BATCH) {
    const reply = await run(items.slice(i, i + BATCH))
    for (const flag of reply) out.push(Number(flag) === 1)
  }
  return out
}

function notFound(name: string, error: unknown): unknown {
  if (error instanceof RedisCommandError && /does not exist|not found/i.test(error.message)) {
    return new BloomNotFoundError(`bloom ${name}: the filter does not exist (deleted or expired after create)`, { cause: error })
  }
  return error
}

class LuaBloomFilter implements BloomFilter {
  readonly info: BloomFilterInfo
  readonly #connection: RedisConnection
  readonly #keys: [string, string]

  constructor(connection: RedisConnection, info: BloomFilterInfo, metaKey: string, bitsKey: string) {
    this.#connection = connection
    this.info = info
    this.#keys = [metaKey, bitsKey]
  }

  async add(item: string): Promise<boolean> {
    checkItem(item)
    return (await this.addMany([item]))[0]!
  }

  addMany(items: readonly string[]): Promise<boolean[]> {
    return this.#run(addScript, checkItems(items))
  }

  async exists(item: string): Promise<boolean> {
    checkItem(item)
    return (await this.existsMany([item]))[0]!
  }

  existsMany(items: readonly string[]): Promise<boolean[]> {
    return this.#run(existsScript, checkItems(items))
  }

  async delete(): Promise<void> {
    // Both keys share a slot, so one UNLINK removes the filter atomically.
    await this.#connection.send(['UNLINK', ...this.#keys], { key: this.#keys[0] })
  }

  async #run(script: typeof addScript, items: readonly string[]): Promise<boolean[]> {
    try {
      return await batched(items, (batch) => this.#connection.evalScript<unknown[]>(script, this.#keys, batch))
    } catch (error) {
      throw notFound(this.info.name, error)
    }
  }
}

class NativeBloomFilter implements BloomFilter {
  readonly info: BloomFilterInfo
  readonly #connection: RedisConnection
  readonly #key: string

  constructor(connection: RedisConnection, info: BloomFilterInfo, key: string) {
    this.#connection = connection
    this.info = info
    this.#key = key
  }

  async add(item: string): Promise<boolean> {
    checkItem(item)
    return (await this.addMany([item]))[0]!
  }

  addMany(items: readonly string[]): Promise<boolean[]> {
    return this.#run('BF.MADD', checkItems(items))
  }

  async exists(item: string): Promise<boolean> {
    checkItem(item)
    return (await this.existsMany([item]))[0]!
  }

  existsMany(items: readonly string[]): Promise<boolean[]> {
    return this.#run('BF.MEXISTS', checkItems(items))
  }

  async delete(): Promise<void> {
    await this.#connection.send(['UNLINK', this.#key], { key: this.#key })
  }

  async #run(command: 'BF.MADD' | 'BF.MEXISTS', items: readonly string[]): Promise<boolean[]> {
    if (command === 'BF.MADD' && items.length > 0) {
      // BF.MADD would silently create a scaling filter with default parameters if the key were gone.
      const exists = await this.#connection.send<number>(['EXISTS', this.#key], { key: this.#key })
      if (Number(exists) === 0) throw new BloomNotFoundError(`bloom ${this.info.name}: the filter does not exist (deleted or expired after create)`)
    }
    return batched(items, (batch) => this.#connection.send<unknown[]>([command, this.#key, ...batch], { key: this.#key }))
  }
}
