// The Redis session store: one hash per session at `sess:<sha256(id)>` with a TTL renewed on use, and a sorted set
// per user at `sess:user:<userId>` listing their session hashes for "log out everywhere", scored by the time each
// session cannot outlive (so expired entries are pruned by score, atomically, without looking at the sessions).
// On a cluster these keys may live in different slots: every command touches one key, in an order that never
// loses a session from its user's index (index first on create).
import { z } from 'zod'
import { optionsObject, parseOptions } from '../../config/options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { luaLoader } from '../../redis/lua.ts'
import {
  checkUserId,
  DEFAULT_SESSION_TTL_MS,
  encodeData,
  hashSessionId,
  invalid,
  sessionTtl,
  isWellFormedSessionId,
  newSessionId,
  sessionTtlMs,
  type CreateSessionOptions,
  type Session,
  type SessionStore,
  type SessionStoreOptions,
} from './store.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const createScript = loadLua('session-create-1.lua')
const touchScript = loadLua('session-touch-1.lua')
const destroyScript = loadLua('session-destroy-1.lua')
const indexScript = loadLua('session-index-1.lua')

export interface RedisSessionStoreOptions extends SessionStoreOptions {
  /** Key prefix of session keys and user index sets, after the connection's keyPrefix. Default `sess:`. */
  prefix?: string
}

const redisSchema = optionsObject({ ttl: sessionTtl.optional(), prefix: z.string({ error: 'must be a string' }).optional() })

/** Validates RedisSessionStore options; bad input throws InvalidArgumentError (`RedisSessionStore: field: reason`). */
export function resolveRedisSessionStoreOptions(options: RedisSessionStoreOptions | undefined): { ttlMs: number; prefix: string } {
  const o = parseOptions(redisSchema, options ?? {}, invalid, 'RedisSessionStore')
  return { ttlMs: o.ttl ?? DEFAULT_SESSION_TTL_MS, prefix: o.prefix ?? 'sess:' }
}

export class RedisSessionStore<D = unknown> implements SessionStore<D> {
  readonly kind = 'redis' as const
  readonly ttlMs: number
  readonly #connection: RedisConnection
  readonly #prefix: string

  constructor(connection: RedisConnection, options: RedisSessionStoreOptions = {}) {
    this.#connection = connection
    const o = resolveRedisSessionStoreOptions(options)
    this.ttlMs = o.ttlMs
    this.#prefix = o.prefix
  }

  async create(userId: string, data: D, options: CreateSessionOptions = {}): Promise<Session<D>> {
    checkUserId(userId)
    const json = encodeData(data)
    const ttlMs = sessionTtlMs(options.ttl, this.ttlMs, 'ttl')
    const id = newSessionId()
    const hash = hashSessionId(id)
    const now = Date.now()
    const indexKey = this.#indexKey(userId)
    // Index first: a crash between the two writes leaves a dangling index entry, never an unindexed session.
    await this.#connection.evalScript(indexScript, [indexKey], [hash, now + 2 * ttlMs, now])
    await this.#connection.evalScript(createScript, [this.#sessionKey(hash)], [userId, json, now, ttlMs])
    return { id, userId, data: JSON.parse(json) as D, createdAt: now, lastActivityAt: now, expiresAt: now + ttlMs, ttlMs }
  }

  get(id: string): Promise<Session<D> | undefined> {
    return this.#touch(id, '')
  }

  async update(id: string, data: D): Promise<Session<D> | undefined> {
    return this.#touch(id, encodeData(data))
  }

  async destroy(id: string): Promise<boolean> {
    if (!isWellFormedSessionId(id)) return false
    const hash = hashSessionId(id)
    const userId = await this.#connection.evalScript<string | null>(destroyScript, [this.#sessionKey(hash)], [])
    if (userId === null || userId === undefined) return false
    const indexKey = this.#indexKey(String(userId))
    await this.#connection.send(['ZREM', indexKey, hash], { key: indexKey })
    return true
  }

  async destroyUser(userId: string): Promise<number> {
    checkUserId(userId)
    const indexKey = this.#indexKey(userId)
    const hashes = (await this.#connection.send<unknown[]>(['ZRANGE', indexKey, '0', '-1'], { key: indexKey })).map(String)
    const deleted = await Promise.all(
      hashes.map((hash) => {
        const key = this.#sessionKey(hash)
        return this.#connection.send<number>(['UNLINK', key], { key })
      }),
    )
    await this.#connection.send(['UNLINK', indexKey], { key: indexKey })
    return deleted.reduce<number>((sum, n) => sum + Number(n), 0)
  }

  /** The store does not own the connection: closing it is the caller's. */
  close(): Promise<void> {
    return Promise.resolve()
  }

  async #touch(id: string, json: string): Promise<Session<D> | undefined> {
    if (!isWellFormedSessionId(id)) return undefined
    const now = Date.now()
    const reply = await this.#connection.evalScript<unknown[] | null>(touchScript, [this.#sessionKey(hashSessionId(id))], [now, json])
    if (!reply) return undefined
    const [userId, data, createdAt, ttl, indexUntil] = reply.map(String) as [string, string, string, string, string]
    const ttlMs = Number(ttl)
    if (indexUntil !== '0') {
      const indexKey = this.#indexKey(userId)
      await this.#connection.evalScript(indexScript, [indexKey], [hashSessionId(id), indexUntil, now])
    }
    return { id, userId, data: JSON.parse(data) as D, createdAt: Number(createdAt), lastActivityAt: now, expiresAt: now + ttlMs, ttlMs }
  }

  #sessionKey(hash: string): string {
    return this.#connection.key(this.#prefix + hash)
  }

  #indexKey(userId: string): string {
    return this.#connection.key(`${this.#prefix}user:${userId}`)
  }
}
