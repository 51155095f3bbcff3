// Seed 004's scheduled-refresh cache: jobs keep keys fresh on a schedule instead of letting them expire; readers
// read the cached value and fall back to a live load when it is missing or the store is down.
//
// Across instances: every instance computes the same ticks; the first to take the job's lock (after a random
// jitter) refreshes, and records the tick in the job's shared state so the others skip it. Values are written
// over the previous ones (never deleted first), so readers always see the last good value during a refresh.
import { z } from 'zod'
import { nonEmptyString, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { createLogger, type Logger } from '../../config/logger.ts'
import { InvalidArgumentError, isOutageError } from '../../redis/errors.ts'
import { RefreshFailedError, RefreshTimeoutError } from './errors.ts'
import { normalizeJob, type Job, type LoadContext, type RefreshJobOptions } from './job.ts'
import type { RefreshStore } from './store.ts'
import { newReadCounters, RefreshValues, type ReadCounters } from './values.ts'

export interface RefreshSchedulerOptions {
  /** Where values, locks and job state live: a CacheBackend (MemoryBackend for one process, RedisBackend to share). */
  store: RefreshStore
  /**
   * Prefix of every key the scheduler writes: `<prefix>value:<key>`, `<prefix>job:<name>:lock|state`. Backends take
   * complete keys, so include any global prefix here (e.g. `connection.key('refresh:')`). Default `refresh:`.
   */
  keyPrefix?: string
  /** Names this instance in lock tokens. Default `<hostname>:<pid>:<random>`. */
  instanceId?: string
  /** Default: the library logger. */
  logger?: Logger
}

/** Counters of one job, as seen by this instance (runs done by other instances are counted there). */
export interface RefreshMetrics {
  /** runs this instance carried out (successes + failures) */
  runs: number
  successes: number
  failures: number
  /** ticks this instance left to another (lock held, or the tick already refreshed) */
  skipped: number
  /** successes / runs; undefined before the first run */
  successRate: number | undefined
  /** epoch ms */
  lastSuccessAt: number | undefined
  /** epoch ms when the last run started */
  lastRunAt: number | undefined
  lastDurationMs: number | undefined
  /** message of the last failure */
  lastError: string | undefined
  lastErrorAt: number | undefined
  /** reads served from the store */
  hits: number
  /** reads that found no value and loaded live */
  misses: number
  /** reads that loaded live because the store was unreachable */
  fallbacks: number
}

export interface RunResult {
  status: 'success' | 'failure' | 'skipped'
  /** why a run was skipped, or what failed */
  reason?: string
  /** keys refreshed */
  keys: number
  durationMs: number
  error?: Error
}

interface Runtime {
  job: Job
  metrics: Omit<RefreshMetrics, 'successRate' | keyof ReadCounters>
  reads: ReadCounters
  timer: NodeJS.Timeout | undefined
  forceTimer: NodeJS.Timeout | undefined
  running: Promise<RunResult> | undefined
  abort: AbortController | undefined
}

interface SharedState {
  /** the last tick refreshed */
  tick: number
  lastSuccessAt: number
}

const LOCK_MARGIN_MS = 5000

const schedulerSchema = optionsObject({
  store: z.custom<RefreshStore>((v) => typeof v === 'object' && v !== null, { error: 'a RefreshStore (e.g. a CacheBackend) is required' }),
  keyPrefix: z.string({ error: 'must be a string' }).optional(),
  instanceId: nonEmptyString().optional(),
  logger: opaque<Logger>().optional(),
})

export class RefreshScheduler {
  readonly instanceId: string
  readonly #store: RefreshStore
  readonly #prefix: string
  readonly #logger: Logger
  readonly #jobs = new Map<string, Runtime>()
  readonly #values: RefreshValues
  #started = false

  constructor(options: RefreshSchedulerOptions) {
    const o = parseOptions(schedulerSchema, options, (message) => new InvalidArgumentError(message))
    this.#store = o.store
    this.#prefix = o.keyPrefix ?? 'refresh:'
    this.instanceId = o.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    this.#logger = o.logger ?? createLogger('skalds:refresh')
    this.#values = new RefreshValues(this.#store, this.#prefix, this.#logger)
  }

  /** Registers a job (see RefreshJobOptions); starts it at once if the scheduler is running. */
  register<T>(options: RefreshJobOptions<T>): void {
    const job = normalizeJob(options) as Job
    if (this.#jobs.has(job.name)) throw new InvalidArgumentError(`name: a refresh job named ${JSON.stringify(job.name)} is already registered`)
    const runtime: Runtime = {
      job,
      metrics: { runs: 0, successes: 0, failures: 0, skipped: 0, lastSuccessAt: undefined, lastRunAt: undefined, lastDurationMs: undefined, lastError: undefined, lastErrorAt: undefined },
      reads: newReadCounters(),
      timer: undefined,
      forceTimer: undefined,
      running: undefined,
      abort: undefined,
    }
    this.#jobs.set(job.name, runtime)
    if (this.#started) this.#startJob(runtime)
  }

  /** Names of the registered jobs. */
  get jobs(): string[] {
    return [...this.#jobs.keys()]
  }

  /** Starts every job's schedule (and its first refresh unless `runOnStart: false`). Idempotent. */
  start(): void {
    if (this.#started) return
    this.#started = true
    for (const runtime of this.#jobs.values()) this.#startJob(runtime)
  }

  /** Stops the schedules, aborts running loads and waits for the runs to settle. */
  async stop(): Promise<void> {
    this.#started = false
    const pending: Array<Promise<unknown>> = []
    for (const runtime of this.#jobs.values()) {
      clearTimeout(runtime.timer)
      clearInterval(runtime.forceTimer)
      runtime.timer = undefined
      runtime.forceTimer = undefined
      runtime.abort?.abort(new RefreshTimeoutError(`refresh job ${runtime.job.name}: the scheduler stopped`))
      if (runtime.running) pending.push(runtime.running)
    }
    await Promise.allSettled(pending)
  }

  /**
   * Refreshes a job now, outside its schedule (waits for a run in progress here or elsewhere, up to the job's
   * timeout, then runs). Resolves with the outcome; never rejects for a failed load (see `error`).
   */
  async runNow(name: string): Promise<RunResult> {
    const runtime = this.#runtime(name)
    const deadline = Date.now() + runtime.job.timeoutMs + LOCK_MARGIN_MS
    for (;;) {
      if (runtime.running) await runtime.running.catch(() => {})
      const result = await this.#attempt(runtime, Date.now(), 'runNow', undefined, false)
      if (result.status !== 'skipped' || Date.now() > deadline) return result
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** The job's counters in this instance. */
  metrics(name: string): RefreshMetrics {
    const { metrics, reads } = this.#runtime(name)
    return { ...metrics, hits: reads.hits, misses: reads.misses, fallbacks: reads.fallbacks, successRate: metrics.runs === 0 ? undefined : metrics.successes / metrics.runs }
  }

  /**
   * The cached value of a job's key (`key` may be omitted for a single-key job). When it is missing, or the store
   * is unreachable, loads it live (seed 004's fallback) — and caches it when the store answered.
   */
  async get<T = unknown>(name: string, key?: string): Promise<T> {
    const runtime = this.#runtime(name)
    return (await this.#values.get(runtime.job, runtime.reads, this.#keyFor(runtime, key))) as T
  }

  /** Several keys of one job in one store round trip; misses load live, as `get` does. */
  async getMany<T = unknown>(name: string, keys: readonly string[]): Promise<T[]> {
    const runtime = this.#runtime(name)
    return (await this.#values.getMany(runtime.job, runtime.reads, keys.map((key) => this.#keyFor(runtime, key)))) as T[]
  }

  // ---- schedule ----

  #startJob(runtime: Runtime): void {
    const { job } = runtime
    const now = Date.now()
    if (job.runOnStart) {
      const tick = job.currentTick(now)
      runtime.timer = this.#timer(Math.random() * job.jitterMs, () => {
        this.#schedule(runtime, now)
        void this.#attempt(runtime, tick, 'schedule', (state) => !state || state.tick < tick)
      })
    } else {
      this.#schedule(runtime, now)
    }
    if (job.forceWhen) {
      runtime.forceTimer = setInterval(() => void this.#checkForce(runtime), job.forceCheckEveryMs)
      runtime.forceTimer.unref()
    }
  }

  #schedule(runtime: Runtime, after: number): void {
    if (!this.#started) return
    const { job } = runtime
    const tick = job.nextTick(after)
    if (!Number.isFinite(tick)) return
    const delay = Math.max(0, tick - Date.now()) + Math.random() * job.jitterMs
    runtime.timer = this.#timer(delay, () => {
      this.#schedule(runtime, tick)
      void this.#attempt(runtime, tick, 'schedule', (state) => !state || state.tick < tick)
    })
  }

  #timer(delayMs: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (this.#started) run()
    }, delayMs)
    timer.unref()
    return timer
  }

  async #checkForce(runtime: Runtime): Promise<void> {
    const forceWhen = runtime.job.forceWhen!
    const decide = (state: SharedState | undefined): boolean => {
      try {
        return forceWhen({ lastSuccessAt: state?.lastSuccessAt, now: Date.now() })
      } catch (error) {
        this.#logger.error({ err: error, job: runtime.job.name }, `refresh ${runtime.job.name}: forceWhen threw`)
        return false
      }
    }
    try {
      if (runtime.running || !decide(await this.#readState(runtime))) return
    } catch {
      return
    }
    // Decided again under the lock: another instance may have just done the forced refresh.
    await this.#attempt(runtime, Date.now(), 'forced', decide)
  }

  // ---- runs ----

  /** One run under the job's lock; `check` (given the shared state, read under the lock) can skip it. */
  async #attempt(runtime: Runtime, tick: number, reason: LoadContext['reason'], check?: (state: SharedState | undefined) => boolean, countSkip = true): Promise<RunResult> {
    if (runtime.running) {
      if (countSkip) runtime.metrics.skipped++
      return { status: 'skipped', reason: 'a run of this job is in progress in this instance', keys: 0, durationMs: 0 }
    }
    const run = this.#locked(runtime, tick, reason, check, countSkip)
    runtime.running = run
    try {
      return await run
    } finally {
      runtime.running = undefined
    }
  }

  async #locked(runtime: Runtime, tick: number, reason: LoadContext['reason'], check: ((state: SharedState | undefined) => boolean) | undefined, countSkip: boolean): Promise<RunResult> {
    const { job, metrics } = runtime
    const lockKey = this.#jobKey(job.name, 'lock')
    const token = `${this.instanceId}:${randomUUID()}`
    const started = Date.now()
    let acquired: boolean
    try {
      acquired = await this.#store.setIfAbsent(lockKey, token, job.timeoutMs + LOCK_MARGIN_MS)
    } catch (error) {
      return this.#failed(runtime, started, error as Error, 'the store is unreachable, cannot take the job lock')
    }
    if (!acquired) {
      if (countSkip) metrics.skipped++
      return { status: 'skipped', reason: 'another instance holds the job lock', keys: 0, durationMs: Date.now() - started }
    }
    try {
      if (check && !check(await this.#readState(runtime))) {
        if (countSkip) metrics.skipped++
        return { status: 'skipped', reason: 'already refreshed by another instance', keys: 0, durationMs: Date.now() - started }
      }
      return await this.#refresh(runtime, tick, reason, started)
    } catch (error) {
      return this.#failed(runtime, started, error as Error, (error as Error).message)
    } finally {
      await this.#store.deleteIfEquals(lockKey, token).catch((error: unknown) => {
        this.#logger.warn({ err: error, job: job.name }, `refresh ${job.name}: could not release the lock (it expires by itself)`)
      })
    }
  }

  async #refresh(runtime: Runtime, tick: number, reason: LoadContext['reason'], started: number): Promise<RunResult> {
    const { job, metrics } = runtime
    metrics.runs++
    metrics.lastRunAt = started
    const abort = new AbortController()
    runtime.abort = abort
    const timer = setTimeout(() => abort.abort(new RefreshTimeoutError(`refresh job ${job.name}: the run exceeded its timeout of ${job.timeoutMs} ms`)), job.timeoutMs)
    try {
      const work = this.#loadAll(runtime, tick, reason, abort.signal)
      const { keys, failures } = await untilAborted(work, abort.signal)
      if (failures.length > 0) {
        const first = failures[0]!
        throw new RefreshFailedError(
          `refresh job ${job.name}: ${failures.length} of ${keys} keys failed; first: ${first.key}: ${(first.error as Error)?.message ?? String(first.error)}`,
          failures,
        )
      }
      const state: SharedState = { tick, lastSuccessAt: started }
      await this.#store.set(this.#jobKey(job.name, 'state'), JSON.stringify(state), Math.max(job.ttlMs, job.intervalMs) * 2)
      const durationMs = Date.now() - started
      metrics.successes++
      metrics.lastSuccessAt = started
      metrics.lastDurationMs = durationMs
      this.#logger.info({ job: job.name, keys, durationMs, reason }, `refresh ${job.name}: ${keys} keys refreshed in ${durationMs} ms`)
      return { status: 'success', keys, durationMs }
    } finally {
      clearTimeout(timer)
      if (runtime.abort === abort) runtime.abort = undefined
    }
  }

  async #loadAll(runtime: Runtime, tick: number, reason: LoadContext['reason'], signal: AbortSignal): Promise<{ keys: number; failures: Array<{ key: string; error: unknown }> }> {
    const { job } = runtime
    const keys = await job.keys()
    const failures: Array<{ key: string; error: unknown }> = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < keys.length && !signal.aborted) {
        const key = keys[next++]!
        try {
          const value = await job.load(key, { key, tick, reason, signal })
          // A run past its timeout writes nothing: its lock may already belong to another instance.
          if (signal.aborted) return
          await this.#values.write(job, key, value)
        } catch (error) {
          failures.push({ key, error })
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(job.concurrency, keys.length) }, worker))
    return { keys: keys.length, failures }
  }

  #failed(runtime: Runtime, started: number, error: Error, message: string): RunResult {
    const { metrics, job } = runtime
    if (metrics.lastRunAt !== started) {
      metrics.runs++
      metrics.lastRunAt = started
    }
    metrics.failures++
    metrics.lastError = message
    metrics.lastErrorAt = Date.now()
    metrics.lastDurationMs = Date.now() - started
    const level = isOutageError(error) ? 'warn' : 'error'
    this.#logger[level]({ err: error, job: job.name }, `refresh ${job.name}: ${message}; keeping the previous values`)
    return { status: 'failure', reason: message, keys: 0, durationMs: metrics.lastDurationMs, error }
  }

  async #readState(runtime: Runtime): Promise<SharedState | undefined> {
    const raw = await this.#store.get(this.#jobKey(runtime.job.name, 'state'))
    if (raw === undefined) return undefined
    try {
      const state = JSON.parse(raw) as SharedState
      return typeof state.tick === 'number' && typeof state.lastSuccessAt === 'number' ? state : undefined
    } catch {
      return undefined
    }
  }

  #runtime(name: string): Runtime {
    const runtime = this.#jobs.get(name)
    if (!runtime) throw new InvalidArgumentError(`name: no refresh job named ${JSON.stringify(name)} (registered: ${this.jobs.join(', ') || 'none'})`)
    return runtime
  }

  #keyFor(runtime: Runtime, key: string | undefined): string {
    const own = runtime.job.key
    if (own !== undefined) {
      if (key !== undefined && key !== own) throw new InvalidArgumentError(`key: job ${runtime.job.name} refreshes ${JSON.stringify(own)} only, got ${JSON.stringify(key)}`)
      return own
    }
    if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError(`key: job ${runtime.job.name} refreshes a key family; name the key (non-empty string)`)
    return key
  }

  #jobKey(name: string, what: 'lock' | 'state'): string {
    return `${this.#prefix}job:${name}:${what}`
  }
}

/** Resolves with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}
