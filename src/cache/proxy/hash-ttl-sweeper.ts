// Periodic purge of expired hash fields on the emulated path: SCANs every master for TTL index keys under the
// connection's key prefix and runs the purge script on each. Reads already hide expired fields and writes purge
// them; the sweeper frees the memory of hashes nobody touches.
import type { Duration } from '../../config/duration.ts'
import type { Logger } from '../../config/logger.ts'
import { duration, integer, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { escapeGlob, type RedisConnection } from '../../redis/connection.ts'
import { EmulatedHashTtl, EMULATED, TTL_INDEX_SUFFIX } from './hash-ttl.ts'
import { runOp } from './op.ts'

export interface HashTtlSweeperOptions {
  /** Time between the end of one sweep and the start of the next. Default '10s'. */
  interval?: Duration
  /** SCAN COUNT hint per call. Default 500. */
  scanCount?: number
  /** Where sweep failures are reported (warn). Default: the connection's logger. */
  logger?: Logger
}

export interface SweepResult {
  /** TTL indexes visited */
  indexes: number
  /** expired fields removed */
  purged: number
}

/** @internal The sweeper's options; RedisProxy checks its `sweeper` option with it. */
export const sweeperSchema = optionsObject({
  interval: duration({ positive: true }).default(10_000),
  scanCount: integer(1).default(500),
  logger: opaque<Logger>().optional(),
})

/** @internal Validates sweeper options and fills the defaults; bad input throws InvalidArgumentError naming the field. */
export function resolveSweeperOptions(options: HashTtlSweeperOptions = {}): { intervalMs: number; scanCount: number } {
  const o = parseOptions(sweeperSchema, options, (message) => new InvalidArgumentError(message))
  return { intervalMs: o.interval, scanCount: o.scanCount }
}

/** @internal started and stopped by RedisProxy (its `sweeper` option). */
export class HashTtlSweeper {
  readonly #connection: RedisConnection
  readonly #intervalMs: number
  readonly #scanCount: number
  readonly #logger: Logger
  #timer: NodeJS.Timeout | undefined
  #current: Promise<unknown> | undefined
  #started = false

  constructor(connection: RedisConnection, options: HashTtlSweeperOptions = {}) {
    this.#connection = connection
    const resolved = resolveSweeperOptions(options)
    this.#intervalMs = resolved.intervalMs
    this.#scanCount = resolved.scanCount
    this.#logger = options.logger ?? connection.logger
  }

  get running(): boolean {
    return this.#started
  }

  /** Starts sweeping every `interval` (the timer does not keep the process alive). Idempotent. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#schedule()
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.#started = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#current?.catch(() => {})
  }

  /** One full sweep now. */
  async sweepOnce(): Promise<SweepResult> {
    const prefix = this.#connection.keyPrefix
    const escaped = escapeGlob(prefix)
    // An index is `{<key>}:__hfttl` for a key without hash tag, `<key>|__hfttl` for a key with one.
    const suffix = `[:|]${escapeGlob(TTL_INDEX_SUFFIX.slice(1))}`
    const patterns = prefix === '' ? [`*${suffix}`] : [`${escaped}*${suffix}`, `{${escaped}*${suffix}`]
    const seen = new Set<string>()
    const result: SweepResult = { indexes: 0, purged: 0 }
    for (const pattern of patterns) {
      for await (const batch of this.#connection.scan(pattern, { count: this.#scanCount, type: 'zset' })) {
        for (const indexKey of batch) {
          if (seen.has(indexKey)) continue
          seen.add(indexKey)
          const hash = EmulatedHashTtl.hashOfIndex(indexKey)
          if (hash === undefined || !hash.startsWith(prefix)) continue
          result.indexes++
          result.purged += await runOp(this.#connection, EMULATED.purge(hash))
        }
      }
    }
    return result
  }

  #schedule(): void {
    if (!this.#started) return
    this.#timer = setTimeout(() => {
      const sweep = this.sweepOnce().then(
        (result) => {
          if (result.purged > 0) this.#logger.debug(result, `hash TTL sweeper: purged ${result.purged} expired fields`)
        },
        (error: unknown) => this.#logger.warn({ err: error }, 'hash TTL sweeper: sweep failed; will retry next interval'),
      )
      this.#current = sweep.finally(() => {
        this.#current = undefined
        this.#schedule()
      })
    }, this.#intervalMs)
    this.#timer.unref()
  }
}
