// Per-hash-field TTL, two ways. Native (Redis >= 7.4, Valkey >= 9): HSET + HPEXPIRE in one script, plain HGET /
// HGETALL / HDEL / HPTTL. Emulated (older servers): a TTL index beside each hash — a ZSET `field -> expiry epoch ms`
// in the same cluster slot — kept by Lua scripts that read the server clock; expired fields are invisible to every
// read, purged lazily by reads and writes, and by the HashTtlSweeper.
import type { RedisConnection } from '../../redis/connection.ts'
import { luaLoader } from '../../redis/lua.ts'
import { companionKey } from '../../redis/slot.ts'
import { decodeNumber, decodeRecord, decodeString, type Op } from './op.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))

/** Suffix of the TTL index key of a hash on the emulated path (`{<hash key>}:__hfttl`). */
export const TTL_INDEX_SUFFIX = ':__hfttl'
/** The same suffix as companionKey writes it for a key that has its own {hash tag}. */
const TAGGED_INDEX_SUFFIX = '|__hfttl'

/** `native` uses the server's hash-field expiry; `emulated` the Lua TTL index. */
export type HashTtlMode = 'native' | 'emulated'

/** What `hashFieldTtl` answers: ms left, `null` for a field without TTL, `undefined` for an absent field. */
export type FieldTtl = number | null | undefined

/** Builds the ops of the hash operations; every key given is already prefixed. @internal */
export interface HashTtlStrategy {
  readonly mode: HashTtlMode
  /** Sets fields; `ttlMs` 0 = no TTL (clears a TTL the field had, as HSET does natively). Reply: new fields. */
  set(key: string, entries: ReadonlyArray<readonly [string, string]>, ttlMs: number): Op<number>
  get(key: string, field: string): Op<string | undefined>
  getAll(key: string): Op<Record<string, string>>
  delete(key: string, fields: readonly string[]): Op<number>
  ttl(key: string, field: string): Op<FieldTtl>
  /** Deletes a key (and, emulated, its TTL index); reply 1 when the key existed. */
  deleteKey(key: string): Op<number>
  /** Extra keys that belong to `key` and must go when it goes (the TTL index), none natively. */
  companions(key: string): string[]
}

const decodeTtl = (reply: unknown): FieldTtl => {
  const value = Number(Array.isArray(reply) ? reply[0] : reply)
  if (value === -2) return undefined
  if (value === -1) return null
  return value
}

function flatten(entries: ReadonlyArray<readonly [string, string]>): string[] {
  const args: string[] = []
  for (const [field, value] of entries) args.push(field, value)
  return args
}

export class NativeHashTtl implements HashTtlStrategy {
  readonly mode = 'native' as const

  set(key: string, entries: ReadonlyArray<readonly [string, string]>, ttlMs: number): Op<number> {
    const pairs = flatten(entries)
    if (ttlMs > 0) {
      return { routeKey: key, command: { script: loadLua('hset-pexpire-1.lua'), keys: [key], args: [String(ttlMs), ...pairs] }, decode: decodeNumber }
    }
    return { routeKey: key, command: ['HSET', key, ...pairs], decode: decodeNumber }
  }

  get(key: string, field: string): Op<string | undefined> {
    return { routeKey: key, command: ['HGET', key, field], decode: decodeString }
  }

  getAll(key: string): Op<Record<string, string>> {
    return { routeKey: key, command: ['HGETALL', key], decode: decodeRecord }
  }

  delete(key: string, fields: readonly string[]): Op<number> {
    return { routeKey: key, command: ['HDEL', key, ...fields], decode: decodeNumber }
  }

  ttl(key: string, field: string): Op<FieldTtl> {
    return { routeKey: key, command: ['HPTTL', key, 'FIELDS', '1', field], decode: decodeTtl }
  }

  deleteKey(key: string): Op<number> {
    return { routeKey: key, command: ['DEL', key], decode: decodeNumber }
  }

  companions(): string[] {
    return []
  }
}

export class EmulatedHashTtl implements HashTtlStrategy {
  readonly mode = 'emulated' as const

  /** The TTL index key of a hash: same slot, never colliding with another hash's index. */
  static indexKey(key: string): string {
    return companionKey(key, TTL_INDEX_SUFFIX)
  }

  /** The hash a TTL index belongs to, or undefined for a key that is not an index. */
  static hashOfIndex(indexKey: string): string | undefined {
    // `{<key>}:__hfttl` for a key without hash tag, `<key>|__hfttl` for a key with one (see companionKey).
    let hash: string | undefined
    if (indexKey.endsWith(TTL_INDEX_SUFFIX)) {
      const base = indexKey.slice(0, -TTL_INDEX_SUFFIX.length)
      if (base.startsWith('{') && base.endsWith('}')) hash = base.slice(1, -1)
    } else if (indexKey.endsWith(TAGGED_INDEX_SUFFIX)) {
      hash = indexKey.slice(0, -TAGGED_INDEX_SUFFIX.length)
    }
    if (hash === undefined || hash === '') return undefined
    try {
      return EmulatedHashTtl.indexKey(hash) === indexKey ? hash : undefined
    } catch {
      return undefined // not a key that can have an index
    }
  }

  set(key: string, entries: ReadonlyArray<readonly [string, string]>, ttlMs: number): Op<number> {
    return this.#script('hset-ttl-2.lua', key, [String(ttlMs), ...flatten(entries)], decodeNumber)
  }

  get(key: string, field: string): Op<string | undefined> {
    return this.#script('hget-live-2.lua', key, [field], decodeString)
  }

  getAll(key: string): Op<Record<string, string>> {
    return this.#script('hgetall-live-2.lua', key, [], decodeRecord)
  }

  delete(key: string, fields: readonly string[]): Op<number> {
    return this.#script('hdel-2.lua', key, [...fields], decodeNumber)
  }

  ttl(key: string, field: string): Op<FieldTtl> {
    return this.#script('hpttl-2.lua', key, [field], decodeTtl)
  }

  deleteKey(key: string): Op<number> {
    const index = EmulatedHashTtl.#indexOrUndefined(key)
    if (index === undefined) return { routeKey: key, command: ['DEL', key], decode: decodeNumber }
    return { routeKey: key, command: { script: loadLua('del-with-index-2.lua'), keys: [key, index], args: [] }, decode: decodeNumber }
  }

  companions(key: string): string[] {
    const index = EmulatedHashTtl.#indexOrUndefined(key)
    return index === undefined ? [] : [index]
  }

  /** Purges the expired fields of one hash (the sweeper's op). Reply: fields purged. */
  purge(key: string): Op<number> {
    return this.#script('hash-purge-2.lua', key, [], decodeNumber)
  }

  // A key that cannot have an index (stray braces, tag-only) never got one: nothing to delete beside it.
  static #indexOrUndefined(key: string): string | undefined {
    try {
      return EmulatedHashTtl.indexKey(key)
    } catch {
      return undefined
    }
  }

  #script<T>(file: string, key: string, args: string[], decode: (reply: unknown) => T): Op<T> {
    return { routeKey: key, command: { script: loadLua(file), keys: [key, EmulatedHashTtl.indexKey(key)], args }, decode }
  }
}

/** Picks the strategy for the connected server; `force` pins the emulation (tests, migrations). */
export async function hashTtlStrategy(connection: RedisConnection, force?: 'emulated'): Promise<HashTtlStrategy> {
  if (force === 'emulated') return EMULATED
  const features = connection.features ?? (await connection.whenReady())
  return features.hashFieldTtl ? NATIVE : EMULATED
}

export const NATIVE = new NativeHashTtl()
export const EMULATED = new EmulatedHashTtl()
