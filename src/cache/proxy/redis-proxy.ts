// RedisProxy: the Skalds RedisProxy operations (seed 000, skalds/proxy/redis.py) on a RedisConnection — hashes with a
// TTL per field, lists, strings, key deletion and SCAN — with the same keys and values as the Python peer, every
// multi-step write atomic, and bad input refused before anything is sent.
import { z } from 'zod'
import { integer, oneOf, optionsObject, parseOptions } from '../../config/options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { escapeGlob } from '../../redis/glob.ts'
import { groupBySlot } from '../../redis/slot.ts'
import { RedisBatch, type BatchOptions } from './batch.ts'
import { EmulatedHashTtl, hashTtlStrategy, type FieldTtl, type HashTtlMode, type HashTtlStrategy } from './hash-ttl.ts'
import { HashTtlSweeper, sweeperSchema, type HashTtlSweeperOptions } from './hash-ttl-sweeper.ts'
import { decodeNumber, runOp } from './op.ts'
import { ProxyOperations, type Build, type HashEntries, type PushListOptions, type TtlOption } from './operations.ts'
import { DEFAULT_MAX_VALUE_BYTES, requireKey, requirePattern } from './validate.ts'

export interface RedisProxyOptions {
  /** Largest value accepted by a write, in UTF-8 bytes; a larger one throws ValueTooLargeError and nothing is written. Default 64 MiB. */
  maxValueBytes?: number
  /**
   * How per-field TTLs are kept. 'auto' (default): native on servers with HPEXPIRE (Redis >= 7.4, Valkey >= 9), the
   * Lua emulation otherwise. 'emulated': the emulation even on a native server — for tests and migrations only; every
   * writer of a hash must use the same mode.
   */
  hashFieldTtl?: 'auto' | 'emulated'
  /**
   * The sweeper that purges expired fields on the emulated path, started on the first hash write there and stopped
   * by `close()`. Options, or false for none (reads and writes still purge lazily). Default { interval: '10s' }.
   */
  sweeper?: HashTtlSweeperOptions | false
}

export interface ScanOptions {
  /** SCAN COUNT hint per call. Default 500. */
  count?: number
}

const proxySchema = optionsObject({
  maxValueBytes: integer(1).default(DEFAULT_MAX_VALUE_BYTES),
  hashFieldTtl: oneOf(['auto', 'emulated']).default('auto'),
  sweeper: z.union([z.literal(false), sweeperSchema]).optional(),
})

/**
 * Validates RedisProxy options and fills the defaults. Bad input throws InvalidArgumentError naming the field, as
 * createCache does (maxValueBytes was a TypeError here before).
 */
export function resolveProxyOptions(options: RedisProxyOptions = {}): { maxValueBytes: number; hashFieldTtl: 'auto' | 'emulated' } {
  const o = parseOptions(proxySchema, options, (message) => new InvalidArgumentError(message))
  return { maxValueBytes: o.maxValueBytes, hashFieldTtl: o.hashFieldTtl }
}

export class RedisProxy {
  readonly connection: RedisConnection
  readonly #ops: ProxyOperations
  readonly #force: 'emulated' | undefined
  readonly #sweeperOptions: HashTtlSweeperOptions | false
  #sweeper: HashTtlSweeper | undefined

  constructor(connection: RedisConnection, options: RedisProxyOptions = {}) {
    const resolved = resolveProxyOptions(options)
    this.connection = connection
    this.#ops = new ProxyOperations(connection, resolved.maxValueBytes)
    this.#force = resolved.hashFieldTtl === 'emulated' ? 'emulated' : undefined
    // The caller's sweeper options (checked above), so its logger is kept as given.
    this.#sweeperOptions = options.sweeper ?? {}
  }

  /** Which per-field TTL path this proxy uses on the connected server (waits for the connection). */
  async hashTtlMode(): Promise<HashTtlMode> {
    return (await this.#strategy()).mode
  }

  // ---- hashes ----

  /** HSET one field; with `ttl`, the field expires on its own (Python `set_hash`). Resolves true when the field is new. */
  async setHashField(key: string, field: string, value: string, options?: TtlOption): Promise<boolean> {
    return (await this.#run(this.#ops.setHashFields(key, [[field, value]], options), true)) > 0
  }

  /** HSET several fields of one hash, all with the same `ttl`, atomically. Resolves with the number of new fields. */
  async setHashFields(key: string, fields: HashEntries, options?: TtlOption): Promise<number> {
    return this.#run(this.#ops.setHashFields(key, fields, options), true)
  }

  /** HGET (Python `get_hash`); undefined when the field is absent or expired. */
  async getHashField(key: string, field: string): Promise<string | undefined> {
    return this.#run(this.#ops.getHashField(key, field))
  }

  /** HGETALL (Python `get_all_hash`) without expired fields; `{}` for an absent key. */
  async getAllHash(key: string): Promise<Record<string, string>> {
    return this.#run(this.#ops.getAllHash(key))
  }

  /** HDEL; resolves with the number of live fields removed. */
  async deleteHashField(key: string, ...fields: string[]): Promise<number> {
    return this.#run(this.#ops.deleteHashFields(key, fields))
  }

  /** Time left before a field expires, in ms; null when it has no TTL; undefined when the field is absent. */
  async hashFieldTtl(key: string, field: string): Promise<FieldTtl> {
    return this.#run(this.#ops.hashFieldTtl(key, field))
  }

  // ---- lists ----

  /**
   * LPUSH (`head`, default) or RPUSH values, then PEXPIRE when `ttl` is given, atomically (Python `push_list`).
   * Several values are pushed one after another, so with `head` the last one ends up first. Resolves with the length.
   */
  async pushList(key: string, value: string | readonly string[], options?: PushListOptions): Promise<number> {
    return this.#run(this.#ops.pushList(key, value, options))
  }

  /** LRANGE start..end, inclusive, negative = from the end (Python `get_list`); [] for an absent key. */
  async getList(key: string, start = 0, end = -1): Promise<string[]> {
    return this.#run(this.#ops.getList(key, start, end))
  }

  /**
   * Replaces a list's content (head first) and sets its TTL in one atomic step: readers see the old list or the new
   * one, never an empty one. An empty `values` deletes the key. Resolves with the new length.
   */
  async overwriteList(key: string, values: readonly string[], options?: TtlOption): Promise<number> {
    return this.#run(this.#ops.overwriteList(key, values, options))
  }

  // ---- strings ----

  /** SET, with PX when `ttl` is given (Python `set_message`); without `ttl` the key keeps no TTL, as SET does. */
  async setString(key: string, value: string, options?: TtlOption): Promise<void> {
    return this.#run(this.#ops.setString(key, value, options))
  }

  /** GET (Python `get_message`); undefined for an absent key. */
  async getString(key: string): Promise<string | undefined> {
    return this.#run(this.#ops.getString(key))
  }

  // ---- keys ----

  /**
   * Deletes keys of any type (Python `delete_key`), each with its hash TTL index on the emulated path. On a cluster,
   * keys in different slots are deleted by one DEL per slot, so the call as a whole is not atomic there. Resolves
   * with the number of keys that existed.
   */
  async deleteKey(...keys: string[]): Promise<number> {
    const full = keys.map((key, i) => this.#ops.key(key, `keys[${i}]`))
    if (full.length === 0) return 0
    const strategy = await this.#strategy()
    if (strategy.mode === 'emulated') {
      const counts = await Promise.all(full.map((key) => runOp(this.connection, strategy.deleteKey(key))))
      return counts.reduce((sum, n) => sum + n, 0)
    }
    const groups = this.connection.isCluster ? [...groupBySlot(full).values()].map((g) => g.map((i) => full[i]!)) : [full]
    const counts = await Promise.all(groups.map((group) => this.connection.send(['DEL', ...group], { key: group[0] }).then(decodeNumber)))
    return counts.reduce((sum, n) => sum + n, 0)
  }

  /**
   * Keys matching a glob `pattern` (SCAN on every master, never KEYS), without the connection's keyPrefix and
   * without the emulation's TTL index keys; each key once. The pattern is a glob: escape literal input with
   * `escapeGlob()`, or use `scanKeysByPrefix()`. An unclosed `[` or a trailing `\` is refused as raw input.
   */
  async *scanKeys(pattern: string, options?: ScanOptions): AsyncGenerator<string> {
    requirePattern(pattern)
    const prefix = this.connection.keyPrefix
    const seen = new Set<string>()
    for await (const batch of this.connection.scan(escapeGlob(prefix) + pattern, { count: options?.count ?? 500 })) {
      for (const key of batch) {
        if (seen.has(key) || !key.startsWith(prefix) || EmulatedHashTtl.hashOfIndex(key) !== undefined) continue
        seen.add(key)
        yield key.slice(prefix.length)
      }
    }
  }

  /** Keys starting with `prefix` taken literally (glob characters in it match themselves). */
  async *scanKeysByPrefix(prefix: string, options?: ScanOptions): AsyncGenerator<string> {
    yield* this.scanKeys(`${escapeGlob(requireKey(prefix, 'prefix'))}*`, options)
  }

  /** `scanKeys` collected into an array. */
  async findKeys(pattern: string, options?: ScanOptions): Promise<string[]> {
    const keys: string[] = []
    for await (const key of this.scanKeys(pattern, options)) keys.push(key)
    return keys
  }

  // ---- batches, lifecycle ----

  /** A batch of operations sent in one round trip inside MULTI (per slot on a cluster): `proxy.batch().setString(...).exec()`. */
  batch(options?: BatchOptions): RedisBatch {
    return new RedisBatch(this.connection, this.#ops, () => this.#strategy(true), options)
  }

  /** The emulation's sweeper, when one was started. */
  get sweeper(): HashTtlSweeper | undefined {
    return this.#sweeper
  }

  /** Stops the sweeper. The connection stays open: it belongs to the caller. */
  async close(): Promise<void> {
    await this.#sweeper?.stop()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #strategy(writing = false): Promise<HashTtlStrategy> {
    const strategy = await hashTtlStrategy(this.connection, this.#force)
    if (writing && strategy.mode === 'emulated' && this.#sweeper === undefined && this.#sweeperOptions !== false) {
      this.#sweeper = new HashTtlSweeper(this.connection, this.#sweeperOptions)
      this.#sweeper.start()
    }
    return strategy
  }

  async #run<T>(build: Build<T>, writing = false): Promise<T> {
    return runOp(this.connection, build(await this.#strategy(writing)))
  }
}
