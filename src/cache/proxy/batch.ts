// Several proxy writes (and reads) sent in one round trip inside MULTI/EXEC. On a single server (or Sentinel) the
// whole batch is one transaction. On a cluster a transaction cannot span slots: operations are grouped by slot and
// each group runs in its own MULTI, in parallel — atomic per slot only — unless `singleSlot` demands one slot.
import type { RedisConnection } from '../../redis/connection.ts'
import { CrossSlotError } from '../../redis/errors.ts'
import { slotOf } from '../../redis/slot.ts'
import type { HashTtlStrategy } from './hash-ttl.ts'
import { opCommand, type Op } from './op.ts'
import type { Build, HashEntries, ProxyOperations, PushListOptions, TtlOption } from './operations.ts'

export interface BatchOptions {
  /**
   * Cluster only: every key of the batch must hash to one slot (use a {hash tag}), so the batch is one all-or-nothing
   * transaction; otherwise `exec()` throws CrossSlotError before sending anything. Default false: grouped by slot.
   */
  singleSlot?: boolean
}

export class RedisBatch {
  readonly #connection: RedisConnection
  readonly #ops: ProxyOperations
  readonly #strategy: () => Promise<HashTtlStrategy>
  readonly #options: BatchOptions
  readonly #builds: Array<Build<unknown>> = []
  #sent = false

  /** Use `proxy.batch()`. */
  constructor(connection: RedisConnection, ops: ProxyOperations, strategy: () => Promise<HashTtlStrategy>, options: BatchOptions = {}) {
    this.#connection = connection
    this.#ops = ops
    this.#strategy = strategy
    this.#options = options
  }

  /** Number of operations queued. */
  get length(): number {
    return this.#builds.length
  }

  setString(key: string, value: string, options?: TtlOption): this {
    return this.#add(this.#ops.setString(key, value, options))
  }

  getString(key: string): this {
    return this.#add(this.#ops.getString(key))
  }

  setHashField(key: string, field: string, value: string, options?: TtlOption): this {
    return this.#add(this.#ops.setHashFields(key, [[field, value]], options))
  }

  setHashFields(key: string, fields: HashEntries, options?: TtlOption): this {
    return this.#add(this.#ops.setHashFields(key, fields, options))
  }

  getHashField(key: string, field: string): this {
    return this.#add(this.#ops.getHashField(key, field))
  }

  getAllHash(key: string): this {
    return this.#add(this.#ops.getAllHash(key))
  }

  deleteHashField(key: string, ...fields: string[]): this {
    return this.#add(this.#ops.deleteHashFields(key, fields))
  }

  pushList(key: string, value: string | readonly string[], options?: PushListOptions): this {
    return this.#add(this.#ops.pushList(key, value, options))
  }

  getList(key: string, start = 0, end = -1): this {
    return this.#add(this.#ops.getList(key, start, end))
  }

  overwriteList(key: string, values: readonly string[], options?: TtlOption): this {
    return this.#add(this.#ops.overwriteList(key, values, options))
  }

  /** Deletes keys (each with its hash TTL index on the emulated path); each key's result is 1 when it existed. */
  deleteKey(...keys: string[]): this {
    for (const key of keys) this.#add(this.#ops.deleteKey(key))
    return this
  }

  /**
   * Sends every queued operation; resolves with their results in order (what the single-operation method returns,
   * e.g. `undefined` for setString, the new length for pushList). A batch runs once. If a group fails, the other
   * slot groups may have been applied; EXEC itself does not roll back a command that fails at run time.
   */
  async exec(): Promise<unknown[]> {
    if (this.#sent) throw new Error('this batch was already sent; create a new one with proxy.batch()')
    this.#sent = true
    if (this.#builds.length === 0) return []
    const strategy = await this.#strategy()
    const ops = this.#builds.map((build) => build(strategy))
    const groups = this.#groups(ops)
    const results = new Array<unknown>(ops.length)
    const settled = await Promise.allSettled(
      [...groups.values()].map(async (indexes) => {
        const replies = await this.#connection.transaction(
          indexes.map((i) => opCommand(ops[i]!)),
          { key: ops[indexes[0]!]!.routeKey },
        )
        indexes.forEach((opIndex, i) => {
          results[opIndex] = ops[opIndex]!.decode(replies[i])
        })
      }),
    )
    const failed = settled.find((outcome) => outcome.status === 'rejected')
    if (failed) throw failed.reason
    return results
  }

  #add(build: Build<unknown>): this {
    if (this.#sent) throw new Error('this batch was already sent; create a new one with proxy.batch()')
    this.#builds.push(build)
    return this
  }

  #groups(ops: Array<Op<unknown>>): Map<number, number[]> {
    if (!this.#connection.isCluster) return new Map([[0, ops.map((_, i) => i)]])
    const groups = new Map<number, number[]>()
    ops.forEach((op, i) => {
      const slot = slotOf(op.routeKey)
      const group = groups.get(slot)
      if (group) group.push(i)
      else groups.set(slot, [i])
    })
    if (this.#options.singleSlot && groups.size > 1) {
      const sample = [...groups.entries()]
        .slice(0, 4)
        .map(([slot, indexes]) => `slot ${slot}: ${JSON.stringify(ops[indexes[0]!]!.routeKey)}`)
        .join(', ')
      throw new CrossSlotError(
        `batch: its keys hash to ${groups.size} cluster slots (${sample}) but singleSlot was requested; give them a common {hash tag} or drop singleSlot to run one transaction per slot. Nothing was sent`,
      )
    }
    return groups
  }
}
