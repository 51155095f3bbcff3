// What every namespace of one createCache() shares: the backend, serializer, L1, buses, stats, in-flight loads,
// and the degradation state (one warning per outage, recovery when the store answers again).
import { randomUUID } from 'node:crypto'
import { toMs, type Duration } from '../../config/duration.ts'
import type { Logger } from '../../config/logger.ts'
import type { CacheBackend } from '../backend.ts'
import { toSkaldsError } from '../../redis/errors.ts'
import { SerializationError, ValueTooLargeError } from '../errors.ts'
import { InvalidationBus } from './invalidation.ts'
import type { L1Cache } from './l1.ts'
import { positiveMs, type Serializer } from './options.ts'
import { FillNotifier } from './stampede.ts'
import { SlowLog, StatsRegistry } from './stats.ts'

export interface RuntimeOptions {
  backend: CacheBackend
  globalPrefix: string
  serializer: Serializer
  maxValueBytes: number
  strict: boolean
  timeoutMs: number
  slowThresholdMs: number
  logger: Logger
  l1: L1Cache | undefined
  broadcast: boolean
  /** what `close()` must close besides the buses (backend and connection createCache opened) */
  closers: Array<() => Promise<void>>
}

/** The result of one load shared by concurrent getOrSet callers. */
export interface Loaded {
  value: unknown
  /** 1 = hit, 2 = stale hit, 0 = miss (the factory ran or was joined) */
  source: 0 | 1 | 2
}

/** One in-flight getOrSet load of a key: every concurrent caller gets `promise`; counters are added once at the end. */
export interface Flight {
  promise: Promise<unknown>
  /** callers that joined after the first */
  joiners: number
}

/** @internal createCache builds it; CacheService's constructor is not for users. */
export class CacheRuntime {
  readonly backend: CacheBackend
  readonly globalPrefix: string
  readonly serializer: Serializer
  readonly maxValueBytes: number
  readonly strict: boolean
  readonly timeoutMs: number
  readonly slowMs: number
  readonly logger: Logger
  readonly l1: L1Cache | undefined
  /** undefined unless L1 or broadcastInvalidations is on */
  readonly bus: InvalidationBus | undefined
  readonly fills: FillNotifier
  readonly stats = new StatsRegistry()
  readonly slow: SlowLog
  readonly origin = randomUUID()
  /** in-flight getOrSet loads by full key */
  readonly flights = new Map<string, Flight>()
  /** full keys whose stale value is being refreshed in the background */
  readonly refreshing = new Set<string>()
  /** true from the first store failure (warned once) until a store call succeeds again */
  degraded = false
  closed = false
  readonly #closers: Array<() => Promise<void>>
  readonly #durations = new Map<string, number>()

  constructor(options: RuntimeOptions) {
    this.backend = options.backend
    this.globalPrefix = options.globalPrefix
    this.serializer = options.serializer
    this.maxValueBytes = options.maxValueBytes
    this.strict = options.strict
    this.timeoutMs = options.timeoutMs
    this.slowMs = options.slowThresholdMs
    this.logger = options.logger
    this.l1 = options.l1
    this.slow = new SlowLog(options.slowThresholdMs, options.logger)
    this.bus = options.l1 !== undefined || options.broadcast ? new InvalidationBus(this.backend, this.globalPrefix, this.origin, this.l1, this.logger) : undefined
    this.fills = new FillNotifier(this.backend, this.globalPrefix, this.logger)
    this.#closers = options.closers
  }

  async start(): Promise<void> {
    await this.bus?.start()
  }

  /**
   * A store call failed. Strict mode throws a SkaldsError; otherwise the error is counted and the first failure of
   * an outage is logged at warn (the rest at debug) so a dead Redis does not flood the log.
   */
  fail(op: string, key: string, error: unknown, counters: { errors: number }): void {
    counters.errors++
    if (this.strict) throw toSkaldsError(error, `cache ${op} ${key}`)
    if (this.degraded) {
      this.logger.debug({ err: error, op, key }, 'cache store still unavailable')
      return
    }
    this.degraded = true
    this.logger.warn(
      { err: error, op, key },
      'cache store unavailable: reads fall through to the source, writes are skipped until it recovers (logged once per outage)',
    )
  }

  /** A store call succeeded after an outage: say so, and drop L1 (eviction messages may have been lost). */
  recovered(): void {
    if (!this.degraded) return
    this.degraded = false
    this.l1?.clear()
    this.logger.info('cache store recovered: caching resumed')
  }

  /** Records a store call's duration when it is over the slow threshold. */
  timed(op: string, key: string, startedAt: number): void {
    const took = performance.now() - startedAt
    if (took >= this.slowMs) this.slow.record(op, key, took)
  }

  serialize(value: unknown, key: string): string {
    if (value === undefined) throw new SerializationError(`value of ${key}: undefined cannot be cached (store null, or delete the key)`)
    let text: string | undefined
    try {
      text = this.serializer.serialize(value)
    } catch (error) {
      throw new SerializationError(`value of ${key}: cannot be serialized (${error instanceof Error ? error.message : String(error)})`, { cause: error })
    }
    if (typeof text !== 'string') throw new SerializationError(`value of ${key}: the serializer returned ${typeof text}, not a string (functions and symbols cannot be cached)`)
    const max = this.maxValueBytes
    // UTF-8 takes 1..3 bytes per UTF-16 unit: only measure exactly when the length alone cannot decide.
    if (text.length > max || (text.length * 3 > max && Buffer.byteLength(text) > max)) {
      throw new ValueTooLargeError(`value of ${key}: ${Buffer.byteLength(text)} bytes serialized exceeds maxValueBytes ${max}`)
    }
    return text
  }

  /** Milliseconds of a per-call Duration; string durations are parsed once and remembered. */
  durationMs(value: Duration, field: string, mustBePositive: boolean): number {
    const parse = mustBePositive ? positiveMs : toMs
    if (typeof value === 'number') return parse(value, field)
    let ms = this.#durations.get(value)
    if (ms === undefined) {
      ms = parse(value, field)
      if (this.#durations.size < 1000) this.#durations.set(value, ms)
    }
    return ms
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.bus?.close()
    await this.fills.close()
    for (const close of this.#closers) await close()
  }
}
