// What the refresh scheduler needs from a store: the subset of CacheBackend it uses, so MemoryBackend (and the
// Redis CacheBackend) plug in as they are, and RedisRefreshStore serves until the Redis CacheBackend is merged.
import type { CacheBackend } from '../backend.ts'
import type { RedisConnection } from '../connection.ts'
import { loadLua } from '../lua/index.ts'

export type RefreshStore = Pick<CacheBackend, 'get' | 'getMany' | 'set' | 'setIfAbsent' | 'deleteIfEquals' | 'ttl'>

const releaseScript = loadLua('refresh-release-1.lua')

/**
 * A RefreshStore straight on a RedisConnection: GET, SET PX, SET NX PX, a compare-and-delete script, PTTL.
 * Keys are given complete; the connection's keyPrefix is applied here. Every command touches one key, so it runs
 * unchanged on a cluster.
 */
export class RedisRefreshStore implements RefreshStore {
  readonly #connection: RedisConnection

  constructor(connection: RedisConnection) {
    this.#connection = connection
  }

  async get(key: string): Promise<string | undefined> {
    const full = this.#connection.key(key)
    const reply = await this.#connection.send<string | Buffer | null>(['GET', full], { key: full, readonly: true })
    return reply === null || reply === undefined ? undefined : reply.toString()
  }

  getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    // One GET per key: node-redis pipelines them on the socket, and keys of a family may live in different slots.
    return Promise.all(keys.map((key) => this.get(key)))
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const full = this.#connection.key(key)
    await this.#connection.send(ttlMs === undefined ? ['SET', full, value] : ['SET', full, value, 'PX', String(Math.max(1, Math.round(ttlMs)))], { key: full })
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const full = this.#connection.key(key)
    const reply = await this.#connection.send(['SET', full, value, 'NX', 'PX', String(Math.max(1, Math.round(ttlMs)))], { key: full })
    return reply !== null && reply !== undefined
  }

  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    const full = this.#connection.key(key)
    return Number(await this.#connection.evalScript(releaseScript, [full], [expected])) === 1
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const full = this.#connection.key(key)
    const reply = Number(await this.#connection.send(['PTTL', full], { key: full }))
    if (reply === -2) return undefined
    if (reply === -1) return null
    return reply
  }
}
