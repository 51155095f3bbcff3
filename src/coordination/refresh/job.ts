// A refresh job's options, checked once at register(), and its schedule: epoch-aligned ticks (`every`) or cron
// fire times, computed identically by every instance so "tick T" means the same thing everywhere.
import { Cron } from 'croner'
import { z } from 'zod'
import type { Duration } from '../../config/duration.ts'
import { boolean, duration, durationThat, fn, integer, nonEmptyString, oneOf, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'

export interface LoadContext {
  /** The key being loaded (for a single-key job, its key). */
  key: string
  /** The scheduled time (epoch ms) this run belongs to; for runNow / forced runs, the time the run started. */
  tick: number
  /** Why it runs: the schedule, `runNow`, a `forceWhen` condition, or a reader's live fallback on a miss. */
  reason: 'schedule' | 'runNow' | 'forced' | 'fallback'
  /** Aborted when the run exceeds `timeout` or the scheduler stops. */
  signal: AbortSignal
}

export interface RefreshState {
  /** epoch ms of the last successful refresh (any instance), undefined when none is recorded */
  lastSuccessAt: number | undefined
  /** now, epoch ms */
  now: number
}

export interface ListLimit {
  /** `first`: keep the first `count` items (top N of a ranking); `last`: keep the last `count` (latest N of a log). */
  keep: 'first' | 'last'
  /** Items kept; a positive integer. */
  count: number
  /** Apply to this property of an object value (e.g. `rankings`) instead of to the value itself. Default: the value. */
  field?: string
}

export interface RefreshJobOptions<T = unknown> {
  /** Unique name of the job in this scheduler; also names its lock and state in the store. */
  name: string
  /** The one key this job keeps fresh. Give `key` or `keys`, not both. */
  key?: string
  /** A key family: the keys to refresh, asked anew at every run (e.g. one per active project). */
  keys?: () => readonly string[] | Promise<readonly string[]>
  /** Loads the fresh value of one key (JSON-serializable). */
  load: (key: string, context: LoadContext) => T | Promise<T>
  /** Refresh interval; ticks are aligned to the epoch (every instance agrees on them). Give `every` or `cron`. */
  every?: Duration
  /** Cron expression (croner syntax, 5 or 6 fields) instead of `every`. */
  cron?: string
  /** Time zone of `cron`, e.g. `Asia/Shanghai`. Default: the process's. */
  timezone?: string
  /** Time to live of a refreshed value; must be longer than the interval, so a value never lapses between runs. */
  ttl: Duration
  /** Time to live of an empty result (null, [] or an empty limited field), so misses are not hammered. Default `min(60s, ttl)`. */
  emptyTtl?: Duration
  /** Decides what counts as empty. Default: null / undefined, an empty array, or an empty `limit.field` array. */
  isEmpty?: (value: T) => boolean
  /** Keep only the top N / latest N items of an array value. Default: no limit. */
  limit?: ListLimit
  /** Forces a refresh outside the schedule when it returns true (e.g. `dayRollover()`). Checked every `forceCheckEvery`. */
  forceWhen?: (state: RefreshState) => boolean
  /** How often `forceWhen` is checked. Default `'1m'`. */
  forceCheckEvery?: Duration
  /** Each instance waits a random 0..jitter after a tick before trying it, spreading instances. Default `min(interval / 10, 30s)`. */
  jitter?: Duration
  /** A run taking longer fails (its loads are aborted; nothing is written by it). Default `min(interval, 5m)`. */
  timeout?: Duration
  /** Keys of a family loaded at once. Default `4`. */
  concurrency?: number
  /** On start(), refresh at once unless the current tick was already refreshed (by any instance). Default `true`. */
  runOnStart?: boolean
}

export interface Job<T = unknown> {
  name: string
  key: string | undefined
  keys: () => Promise<readonly string[]>
  load: RefreshJobOptions<T>['load']
  intervalMs: number
  ttlMs: number
  emptyTtlMs: number
  isEmpty: (value: T) => boolean
  limit: ListLimit | undefined
  forceWhen: RefreshJobOptions<T>['forceWhen']
  forceCheckEveryMs: number
  jitterMs: number
  timeoutMs: number
  concurrency: number
  runOnStart: boolean
  /** the scheduled tick at or before `now` */
  currentTick(now: number): number
  /** the first scheduled tick after `after` */
  nextTick(after: number): number
}

const invalid = (message: string): InvalidArgumentError => new InvalidArgumentError(message)

const atLeast1 = durationThat((ms) => ms >= 1, 'must be at least 1 ms')
const jobSchema = optionsObject({
  name: nonEmptyString(),
  key: nonEmptyString().optional(),
  keys: fn<RefreshJobOptions['keys']>('a function returning the keys').optional(),
  load: fn<RefreshJobOptions['load']>('a function (key, context) => value'),
  every: atLeast1.optional(),
  cron: z.string({ error: 'must be a cron expression (a string)' }).optional(),
  timezone: z.string({ error: 'must be a time zone name' }).optional(),
  ttl: duration(),
  emptyTtl: duration().optional(),
  isEmpty: fn<(value: unknown) => boolean>().optional(),
  limit: optionsObject({ keep: oneOf(['first', 'last']), count: integer(1), field: nonEmptyString().optional() }).optional(),
  forceWhen: fn<RefreshJobOptions['forceWhen']>().optional(),
  forceCheckEvery: atLeast1.optional(),
  jitter: duration().optional(),
  timeout: atLeast1.optional(),
  concurrency: integer(1).optional(),
  runOnStart: boolean().optional(),
})

/**
 * Checks every field with one schema (errors read `refresh job <name>: field: reason`), then the rules between
 * fields, and resolves defaults.
 */
export function normalizeJob<T>(options: RefreshJobOptions<T>): Job<T> {
  const given = (options as Partial<RefreshJobOptions<T>> | undefined)?.name
  const at = typeof given === 'string' && given !== '' ? `refresh job ${given}` : 'refresh job'
  const o = parseOptions(jobSchema, options, invalid, at)
  const name = o.name
  if ((o.key === undefined) === (o.keys === undefined)) throw invalid(`${at}: give exactly one of key (one key) or keys (a key family)`)
  if ((o.every === undefined) === (o.cron === undefined)) throw invalid(`${at}: give exactly one of every (an interval) or cron (an expression)`)

  let intervalMs: number
  let currentTick: (now: number) => number
  let nextTick: (after: number) => number
  if (o.every !== undefined) {
    const every = o.every
    intervalMs = every
    currentTick = (now) => Math.floor(now / every) * every
    nextTick = (after) => (Math.floor(after / every) + 1) * every
  } else {
    let cron: Cron
    try {
      cron = new Cron(String(o.cron), { paused: true, ...(o.timezone ? { timezone: o.timezone } : {}) })
    } catch (error) {
      throw invalid(`${at}: cron: ${JSON.stringify(o.cron)} is not a valid expression (${(error as Error).message})`)
    }
    const runs = cron.nextRuns(12, new Date())
    if (runs.length < 2) throw invalid(`${at}: cron: ${JSON.stringify(o.cron)} does not fire repeatedly`)
    intervalMs = Math.max(...runs.slice(1).map((run, i) => run.getTime() - runs[i]!.getTime()))
    currentTick = (now) => cron.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? now
    nextTick = (after) => cron.nextRun(new Date(after))?.getTime() ?? Number.POSITIVE_INFINITY
  }

  // Rules between fields (the interval of a cron is only known here).
  const ttlMs = o.ttl
  if (!(ttlMs > intervalMs)) {
    throw invalid(`${at}: ttl: must be longer than the refresh interval (${intervalMs} ms) so values never lapse between runs, got ${ttlMs} ms`)
  }
  const emptyTtlMs = o.emptyTtl ?? Math.min(60_000, ttlMs)
  if (emptyTtlMs < 1 || emptyTtlMs > ttlMs) throw invalid(`${at}: emptyTtl: must be between 1 ms and ttl (${ttlMs} ms), got ${emptyTtlMs} ms`)
  const limit = o.limit
  const jitterMs = o.jitter ?? Math.min(Math.floor(intervalMs / 10), 30_000)
  if (jitterMs >= intervalMs) throw invalid(`${at}: jitter: must be shorter than the interval (${intervalMs} ms), got ${jitterMs} ms`)
  const timeoutMs = o.timeout ?? Math.min(intervalMs, 300_000)
  const concurrency = o.concurrency ?? 4
  const forceCheckEveryMs = o.forceCheckEvery ?? 60_000

  const key = options.key
  const keysOf = options.keys
  const keys = key !== undefined ? () => Promise.resolve([key] as const) : async (): Promise<readonly string[]> => {
    const list: unknown = await keysOf!()
    if (!Array.isArray(list)) throw new TypeError(`${at}: keys() must return an array of strings`)
    const checked: string[] = []
    for (const k of list as unknown[]) {
      if (typeof k !== 'string' || k.length === 0) throw new TypeError(`${at}: keys() returned an empty or non-string key`)
      checked.push(k)
    }
    return checked
  }
  const field = limit?.field
  const isEmpty =
    options.isEmpty ??
    ((value: T) => {
      if (value === null || value === undefined) return true
      if (Array.isArray(value)) return value.length === 0
      if (field !== undefined && typeof value === 'object') {
        const inner = (value as Record<string, unknown>)[field]
        return Array.isArray(inner) && inner.length === 0
      }
      return false
    })
  return {
    name,
    key,
    keys,
    load: options.load,
    intervalMs,
    ttlMs,
    emptyTtlMs,
    isEmpty,
    limit,
    forceWhen: options.forceWhen,
    forceCheckEveryMs,
    jitterMs,
    timeoutMs,
    concurrency,
    runOnStart: options.runOnStart ?? true,
    currentTick,
    nextTick,
  }
}

/** Keeps the top N / latest N items of the value (or of its `field`). */
export function applyLimit<T>(value: T, limit: ListLimit | undefined, where: string): T {
  if (!limit || value === null || value === undefined) return value
  const cut = (list: unknown[]): unknown[] => (limit.keep === 'first' ? list.slice(0, limit.count) : list.slice(-limit.count))
  if (limit.field === undefined) {
    if (!Array.isArray(value)) throw new TypeError(`${where}: limit applies to an array, the loader returned ${typeof value}`)
    return cut(value) as T
  }
  const inner = (value as Record<string, unknown>)[limit.field]
  if (!Array.isArray(inner)) throw new TypeError(`${where}: limit.field ${limit.field} is not an array in the loaded value`)
  return { ...(value as object), [limit.field]: cut(inner) } as T
}
