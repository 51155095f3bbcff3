// A refresh job's options, checked once at register(), and its schedule: epoch-aligned ticks (`every`) or cron
// fire times, computed identically by every instance so "tick T" means the same thing everywhere.
import { Cron } from 'croner'
import { toMs, type Duration } from '../../config/duration.ts'
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

/** Checks every field (errors name the job and the field) and resolves defaults. */
export function normalizeJob<T>(options: RefreshJobOptions<T>): Job<T> {
  if (!options || typeof options !== 'object') throw invalid('refresh job: options object required')
  const name = options.name
  if (typeof name !== 'string' || name.length === 0) throw invalid(`name: must be a non-empty string, got ${JSON.stringify(name)}`)
  const at = `refresh job ${name}`
  if (typeof options.load !== 'function') throw invalid(`${at}: load must be a function (key, context) => value`)
  if ((options.key === undefined) === (options.keys === undefined)) throw invalid(`${at}: give exactly one of key (one key) or keys (a key family)`)
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key.length === 0)) {
    throw invalid(`${at}: key must be a non-empty string, got ${JSON.stringify(options.key)}`)
  }
  if (options.keys !== undefined && typeof options.keys !== 'function') throw invalid(`${at}: keys must be a function returning the keys`)
  if ((options.every === undefined) === (options.cron === undefined)) throw invalid(`${at}: give exactly one of every (an interval) or cron (an expression)`)

  let intervalMs: number
  let currentTick: (now: number) => number
  let nextTick: (after: number) => number
  if (options.every !== undefined) {
    const every = toMs(options.every, `${at}: every`)
    if (every < 1) throw invalid(`${at}: every must be at least 1 ms, got ${JSON.stringify(options.every)}`)
    intervalMs = every
    currentTick = (now) => Math.floor(now / every) * every
    nextTick = (after) => (Math.floor(after / every) + 1) * every
  } else {
    let cron: Cron
    try {
      cron = new Cron(String(options.cron), { paused: true, ...(options.timezone ? { timezone: options.timezone } : {}) })
    } catch (error) {
      throw invalid(`${at}: cron ${JSON.stringify(options.cron)} is not a valid expression (${(error as Error).message})`)
    }
    const runs = cron.nextRuns(12, new Date())
    if (runs.length < 2) throw invalid(`${at}: cron ${JSON.stringify(options.cron)} does not fire repeatedly`)
    intervalMs = Math.max(...runs.slice(1).map((run, i) => run.getTime() - runs[i]!.getTime()))
    currentTick = (now) => cron.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? now
    nextTick = (after) => cron.nextRun(new Date(after))?.getTime() ?? Number.POSITIVE_INFINITY
  }

  const ttlMs = toMs(options.ttl, `${at}: ttl`)
  if (!(ttlMs > intervalMs)) {
    throw invalid(`${at}: ttl must be longer than the refresh interval (${intervalMs} ms) so values never lapse between runs, got ${ttlMs} ms`)
  }
  const emptyTtlMs = options.emptyTtl === undefined ? Math.min(60_000, ttlMs) : toMs(options.emptyTtl, `${at}: emptyTtl`)
  if (emptyTtlMs < 1 || emptyTtlMs > ttlMs) throw invalid(`${at}: emptyTtl must be between 1 ms and ttl (${ttlMs} ms), got ${emptyTtlMs} ms`)

  const limit = options.limit
  if (limit !== undefined) {
    if (limit.keep !== 'first' && limit.keep !== 'last') throw invalid(`${at}: limit.keep must be 'first' or 'last', got ${JSON.stringify(limit.keep)}`)
    if (!Number.isSafeInteger(limit.count) || limit.count < 1) throw invalid(`${at}: limit.count must be a positive integer, got ${JSON.stringify(limit.count)}`)
    if (limit.field !== undefined && (typeof limit.field !== 'string' || limit.field === '')) throw invalid(`${at}: limit.field must be a non-empty string`)
  }
  const jitterMs = options.jitter === undefined ? Math.min(Math.floor(intervalMs / 10), 30_000) : toMs(options.jitter, `${at}: jitter`)
  if (jitterMs >= intervalMs) throw invalid(`${at}: jitter must be shorter than the interval (${intervalMs} ms), got ${jitterMs} ms`)
  const timeoutMs = options.timeout === undefined ? Math.min(intervalMs, 300_000) : toMs(options.timeout, `${at}: timeout`)
  if (timeoutMs < 1) throw invalid(`${at}: timeout must be at least 1 ms`)
  const concurrency = options.concurrency ?? 4
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw invalid(`${at}: concurrency must be a positive integer, got ${JSON.stringify(concurrency)}`)
  if (options.forceWhen !== undefined && typeof options.forceWhen !== 'function') throw invalid(`${at}: forceWhen must be a function`)
  const forceCheckEveryMs = options.forceCheckEvery === undefined ? 60_000 : toMs(options.forceCheckEvery, `${at}: forceCheckEvery`)
  if (forceCheckEveryMs < 1) throw invalid(`${at}: forceCheckEvery must be at least 1 ms`)

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
