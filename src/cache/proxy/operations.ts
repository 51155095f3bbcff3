// The proxy's operations as validated op builders. Validation runs at call time (so a batch refuses bad input when
// an operation is added, before anything is sent); the op itself is built once the hash-TTL strategy is known.
import type { Duration } from '../../config/duration.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { luaLoader } from '../../redis/lua.ts'
import type { FieldTtl, HashTtlStrategy } from './hash-ttl.ts'
import { decodeList, decodeNumber, decodeString, decodeVoid, type Op } from './op.ts'
import { requireField, requireIndex, requireKey, requireValue, ttlMs } from './validate.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))

export type Build<T> = (strategy: HashTtlStrategy) => Op<T>

export interface TtlOption {
  /** Time to live: ms as a number, or a string such as '30s', '5m'. Undefined or 0 = no TTL. (Python's `ttl=` is seconds.) */
  ttl?: Duration
}

export interface PushListOptions extends TtlOption {
  /** Push onto the head (LPUSH) when true, the tail (RPUSH) when false. Default true, as Python's `insert_head`. */
  head?: boolean
}

export type HashEntries = Readonly<Record<string, string>> | Iterable<readonly [string, string]>

/** @internal the proxy's and the batch's shared commands. */
export class ProxyOperations {
  readonly #connection: RedisConnection
  readonly #maxValueBytes: number

  constructor(connection: RedisConnection, maxValueBytes: number) {
    this.#connection = connection
    this.#maxValueBytes = maxValueBytes
  }

  /** The full Redis key: the connection's keyPrefix + key. */
  key(key: unknown, name = 'key'): string {
    return this.#connection.key(requireKey(key, name))
  }

  setHashFields(key: string, fields: HashEntries, options?: TtlOption): Build<number> {
    const full = this.key(key)
    const entries: Array<[string, string]> = []
    const iterable: Iterable<readonly [string, string]> = isIterable(fields) ? fields : Object.entries(fields ?? {})
    for (const [field, value] of iterable) {
      requireField(field, `${key}: field`)
      entries.push([field, requireValue(value, `${key}: field ${JSON.stringify(field)}`, this.#maxValueBytes)])
    }
    if (entries.length === 0) throw new InvalidArgumentError(`fields of ${JSON.stringify(key)}: at least one field is needed`)
    const ttl = ttlMs(options?.ttl)
    return (strategy) => strategy.set(full, entries, ttl)
  }

  getHashField(key: string, field: string): Build<string | undefined> {
    const full = this.key(key)
    requireField(field)
    return (strategy) => strategy.get(full, field)
  }

  getAllHash(key: string): Build<Record<string, string>> {
    const full = this.key(key)
    return (strategy) => strategy.getAll(full)
  }

  deleteHashFields(key: string, fields: readonly string[]): Build<number> {
    const full = this.key(key)
    if (fields.length === 0) throw new InvalidArgumentError(`fields of ${JSON.stringify(key)}: at least one field is needed`)
    for (const field of fields) requireField(field)
    return (strategy) => strategy.delete(full, fields)
  }

  hashFieldTtl(key: string, field: string): Build<FieldTtl> {
    const full = this.key(key)
    requireField(field)
    return (strategy) => strategy.ttl(full, field)
  }

  pushList(key: string, value: string | readonly string[], options?: PushListOptions): Build<number> {
    const full = this.key(key)
    const values = typeof value === 'string' ? [value] : arrayOf(value, `values for list ${JSON.stringify(key)}`)
    if (values.length === 0) throw new InvalidArgumentError(`values for list ${JSON.stringify(key)}: at least one value is needed`)
    const checked = values.map((v, i) => requireValue(v, `${key}: value[${i}]`, this.#maxValueBytes))
    const args = [options?.head === false ? 'tail' : 'head', String(ttlMs(options?.ttl)), ...checked]
    return () => ({ routeKey: full, command: { script: loadLua('list-push-1.lua'), keys: [full], args }, decode: decodeNumber })
  }

  getList(key: string, start: number, end: number): Build<string[]> {
    const full = this.key(key)
    const from = String(requireIndex(start, 'start'))
    const to = String(requireIndex(end, 'end'))
    return () => ({ routeKey: full, command: ['LRANGE', full, from, to], decode: decodeList })
  }

  overwriteList(key: string, values: readonly string[], options?: TtlOption): Build<number> {
    const full = this.key(key)
    arrayOf(values, `values for list ${JSON.stringify(key)}`).forEach((v, i) => requireValue(v, `${key}: value[${i}]`, this.#maxValueBytes))
    const args = [String(ttlMs(options?.ttl)), ...values]
    return () => ({ routeKey: full, command: { script: loadLua('list-overwrite-1.lua'), keys: [full], args }, decode: decodeNumber })
  }

  setString(key: string, value: string, options?: TtlOption): Build<void> {
    const full = this.key(key)
    requireValue(value, `${key}: value`, this.#maxValueBytes)
    const ttl = ttlMs(options?.ttl)
    const command = ttl > 0 ? ['SET', full, value, 'PX', String(ttl)] : ['SET', full, value]
    return () => ({ routeKey: full, command, decode: decodeVoid })
  }

  getString(key: string): Build<string | undefined> {
    const full = this.key(key)
    return () => ({ routeKey: full, command: ['GET', full], decode: decodeString })
  }

  /** Deletes one key (emulated: with its hash TTL index, atomically); reply 1 when it existed. */
  deleteKey(key: string): Build<number> {
    const full = this.key(key)
    return (strategy) => strategy.deleteKey(full)
  }
}

function isIterable(value: unknown): value is Iterable<readonly [string, string]> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
}

function arrayOf(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${name}: must be a string or an array of strings`)
  return value as unknown[]
}
