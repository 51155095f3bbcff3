// The L2 store on Redis (single server, Sentinel or Cluster) over a RedisConnection.
//
// Keys given to this backend are COMPLETE: the facade builds them with `connection.key()` (global prefix) plus its
// namespace, so this backend never adds the connection's `keyPrefix` again. Patterns of deleteMatching /
// countMatching are complete too (escape user input with `escapeGlob`).
//
// On a cluster every multi-key command is split by hash slot (one command per slot, sent in parallel: node-redis
// writes concurrent commands to a socket in one batch), and no Lua script ever touches keys of two slots.
import { performance } from 'node:perf_hooks'
import type { Logger } from '../../config/logger.ts'
import { integer, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import type { BackendEntry, BackendListener, CacheBackend } from '../backend.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { parseInfo } from '../../redis/features.ts'
import { luaLoader } from '../../redis/lua.ts'
import { groupBySlot } from '../../redis/slot.ts'
import { RedisTransport } from '../../redis/redis-transport.ts'
import { checkIncrement, checkTtl, wholeMs } from './validate.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const compareDelete = loadLua('compare-delete-1.lua')
const incrementWithTtl = loadLua('incr-ttl-1.lua')
const addToTag = loadLua('tag-add-1.lua')

export interface RedisBackendOptions {
  /** COUNT hint of each SCAN / SSCAN step (keys examined per round trip). Default `500`. */
  scanCount?: number
  /** Where pub/sub listener failures are logged. Default: the connection's logger. */
  logger?: Logger
}

const redisBackendSchema = optionsObject({ scanCount: integer(1).default(500), logger: opaque<Logger>().optional() })

export class RedisBackend implements CacheBackend {
  readonly kind = 'redis' as const
  readonly connection: RedisConnection
  readonly #scanCount: number
  readonly #pubsub: RedisTransport

  /** Uses `connection` without owning it: `close()` closes only what this backend opened (its subscriber). */
  constructor(connection: RedisConnection, options: RedisBackendOptions = {}) {
    const resolved = parseOptions(redisBackendSchema, options, (message) => new InvalidArgumentError(message))
    this.connection = connection
    this.#scanCount = resolved.scanCount
    this.#pubsub = new RedisTransport(connection, options.logger ?? connection.logger)
  }

  get(key: string): Promise<string | undefined> {
    // The hottest call of the cache: no async frame, one shared callback.
    return this.connection.send<string | null>(['GET', key], { key, readonly: true }).then(nullToUndefined)
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return []
    if (!this.connection.isCluster) {
      const reply = await this.connection.send<Array<string | null>>(['MGET', ...keys], { key: keys[0], readonly: true })
      return reply.map((value) => value ?? undefined)
    }
    const results = new Array<string | undefined>(keys.length)
    await Promise.all(
      [...groupBySlot(keys).values()].map(async (indexes) => {
        const group = indexes.map((i) => keys[i]!)
        const reply = await this.connection.send<Array<string | null>>(['MGET', ...group], { key: group[0], readonly: true })
        indexes.forEach((index, i) => (results[index] = reply[i] ?? undefined))
      }),
    )
    return results
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    checkTtl(ttlMs, key)
    await this.connection.send(setArgs(key, value, ttlMs), { key })
  }

  /**
   * Pipelined SETs: all are issued at once and node-redis writes them to each socket in one batch, so this costs one
   * round trip per server involved. Not atomic: on a failure some entries may be written (a cache tolerates that).
   */
  async setMany(entries: readonly BackendEntry[]): Promise<void> {
    for (const entry of entries) checkTtl(entry.ttlMs, entry.key)
    await Promise.all(entries.map((entry) => this.connection.send(setArgs(entry.key, entry.value, entry.ttlMs), { key: entry.key })))
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (ttlMs === undefined) throw new InvalidArgumentError(`ttlMs of ${JSON.stringify(key)}: required (a lock must expire)`)
    checkTtl(ttlMs, key)
    const reply = await this.connection.send<string | null>(['SET', key, value, 'NX', 'PX', String(wholeMs(ttlMs))], { key })
    return reply === 'OK'
  }

  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0
    if (!this.connection.isCluster) return this.connection.send<number>(['UNLINK', ...keys], { key: keys[0] })
    const counts = await Promise.all(
      [...groupBySlot(keys).values()].map((indexes) => {
        const group = indexes.map((i) => keys[i]!)
        return this.connection.send<number>(['UNLINK', ...group], { key: group[0] })
      }),
    )
    return counts.reduce((sum, n) => sum + Number(n), 0)
  }

  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    return Number(await this.connection.evalScript(compareDelete, [key], [expected])) === 1
  }

  async exists(key: string): Promise<boolean> {
    return Number(await this.connection.send(['EXISTS', key], { key, readonly: true })) === 1
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const reply = Number(await this.connection.send(['PTTL', key], { key, readonly: true }))
    if (reply === -2) return undefined
    if (reply === -1) return null
    return reply
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    if (ttlMs === undefined) throw new InvalidArgumentError(`ttlMs of ${JSON.stringify(key)}: required`)
    checkTtl(ttlMs, key)
    return Number(await this.connection.send(['PEXPIRE', key, String(wholeMs(ttlMs))], { key })) === 1
  }

  async increment(key: string, by: number, ttlMs?: number): Promise<number> {
    checkIncrement(by, key)
    checkTtl(ttlMs, key)
    const ttl = ttlMs === undefined ? '' : String(wholeMs(ttlMs))
    return Number(await this.connection.evalScript(incrementWithTtl, [key], [String(by), ttl]))
  }

  /** SCAN (never KEYS) on every master, UNLINKing each batch as it comes (grouped by slot on a cluster). */
  async deleteMatching(pattern: string): Promise<number> {
    let deleted = 0
    for await (const batch of this.connection.scan(pattern, { count: this.#scanCount })) deleted += await this.delete(batch)
    return deleted
  }

  async countMatching(pattern: string): Promise<number> {
    // SCAN may return a key twice while the keyspace is rehashed; count each once.
    const seen = new Set<string>()
    for await (const batch of this.connection.scan(pattern, { count: this.#scanCount })) for (const key of batch) seen.add(key)
    return seen.size
  }

  /**
   * One single-key script per tag set (SADD + a TTL that only grows), never a multi-key script: on a cluster the tag
   * sets and the tagged key live in different slots.
   */
  async addToTags(tagKeys: readonly string[], key: string, ttlMs?: number): Promise<void> {
    checkTtl(ttlMs, key)
    const ttl = ttlMs === undefined ? '' : String(wholeMs(ttlMs))
    await Promise.all(tagKeys.map((tagKey) => this.connection.evalScript(addToTag, [tagKey], [key, ttl])))
  }

  /**
   * Walks each tag set with SSCAN, UNLINKs the members it read (grouped by slot), then SREMs exactly those. The set
   * itself is never dropped whole: a key tagged while the walk runs (another process's fill) stays a member, for the
   * next invalidation to find. (Dropping the set at the end lost such a member: its key outlived every later
   * invalidation of the tag, stale until its TTL.) A set emptied this way is gone, as Redis drops empty sets.
   */
  async invalidateTags(tagKeys: readonly string[]): Promise<number> {
    let deleted = 0
    for (const tagKey of tagKeys) {
      let cursor = '0'
      do {
        const reply = await this.connection.send<[string, string[]]>(['SSCAN', tagKey, cursor, 'COUNT', String(this.#scanCount)], {
          key: tagKey,
          readonly: true,
        })
        cursor = String(reply[0])
        const members = reply[1].map(String)
        if (members.length > 0) {
          deleted += await this.delete(members)
          await this.connection.send(['SREM', tagKey, ...members], { key: tagKey })
        }
      } while (cursor !== '0')
    }
    return deleted
  }

  /** Plain PUBLISH: reaches subscribers on every node of a cluster. */
  async publish(channel: string, message: string): Promise<void> {
    await this.connection.send(['PUBLISH', channel, message], { key: channel })
  }

  /** Subscribes over one shared subscriber connection (plain SUBSCRIBE, like publish), opened on the first call. */
  async subscribe(channel: string, listener: BackendListener): Promise<() => Promise<void>> {
    const raw = (payload: string): void => listener(payload)
    await this.#pubsub.listen(channel, raw, false)
    let done = false
    return async () => {
      if (done) return
      done = true
      await this.#pubsub.unlisten(channel, raw, false)
    }
  }

  async ping(): Promise<number> {
    const started = performance.now()
    await this.connection.send(['PING'])
    return Math.round((performance.now() - started) * 100) / 100
  }

  /** `used_memory` (INFO memory) and DBSIZE, summed over every master. */
  async info(): Promise<{ usedMemoryBytes?: number; keys?: number }> {
    const masters = await this.connection.masters()
    const perMaster = await Promise.all(
      masters.map(async (master) => {
        const [memory, size] = await Promise.all([master.send(['INFO', 'memory']), master.send(['DBSIZE'])])
        return { used: Number(parseInfo(String(memory)).get('used_memory') ?? 0), keys: Number(size) }
      }),
    )
    return {
      usedMemoryBytes: perMaster.reduce((sum, m) => sum + m.used, 0),
      keys: perMaster.reduce((sum, m) => sum + m.keys, 0),
    }
  }

  /** Closes the subscriber connection this backend opened; the connection given to the constructor stays open. */
  async close(): Promise<void> {
    await this.#pubsub.close()
  }
}

function setArgs(key: string, value: string, ttlMs: number | undefined): string[] {
  return ttlMs === undefined ? ['SET', key, value] : ['SET', key, value, 'PX', String(wholeMs(ttlMs))]
}

function nullToUndefined(reply: string | null): string | undefined {
  return reply ?? undefined
}
