// The System Controller's task caches (seed 001): cached store queries (getOrSet with stampede protection) in their
// own namespace, dropped when a change is recorded. Three rules hold them together:
//  - a read never waits more than readTimeoutMs for the cache: past it (or on any cache failure) the store answers;
//  - changed() resolves once Redis confirmed the drop, after the reads of this process that began before it have
//    settled and the drop was repeated (so none of them left a pre-change value behind); it never throws for Redis;
//  - an invalidation Redis did not confirm makes this process read from the store, bypassing the cache, until a
//    full flush of the task caches succeeds: a lost invalidation never turns into a stale read here.
import { createLogger, type Logger } from '../../config/logger.ts'
import type { Task } from '../../model/task.ts'
import type { TaskState } from '../../state/reader.ts'
import type { TaskListQuery, TaskPage } from '../../store/task-store.ts'
import { allScope, applyScope, checkId, emptyScope, InflightReads, mergeScope, scopeOfChange, type Scope, type Spaces } from './invalidation.ts'
import type { TaskChange } from '../task-reads.ts'
import { LIST_TAG, SKALD_TAG, STATISTICS_KEY, TYPE_NAMESPACE, listKey, skaldKey, taskKey } from './keys.ts'
import { resolveTaskCachesOptions, TASK_CACHE_TYPES, type ResolvedTaskCachesOptions, type TaskCachesOptions, type TaskCacheTtls, type TaskCacheType } from './options.ts'
import type { TaskCacheCleanupReport, TaskCaches } from './api.ts'
import { attempt, deadline, TIMED_OUT, Uncached, unwrap } from './calls.ts'
import { buildStats, type TaskCacheOwnCounters, type TaskCacheStats } from './stats.ts'
import { executionSummary, progressView, statisticsOf, type TaskExecutionSummary, type TaskProgressView, type TaskStatistics, type TaskStateSource } from './views.ts'

/** Wait before another flush attempt after one failed, ms. */
const FLUSH_RETRY_MS = 1000
/** Longest cacheStats() waits for the key counts and Redis memory, ms (they are then reported unknown). */
const STATS_TIMEOUT_MS = 5000

class TaskCachesImpl implements TaskCaches {
  readonly ttls: Readonly<TaskCacheTtls>
  readonly namespace: string | undefined
  readonly #o: ResolvedTaskCachesOptions
  readonly #log: Logger
  readonly #spaces: Spaces | undefined
  /** full namespace names whose error counters tell whether an invalidation went through */
  readonly #names: string[]
  readonly #inflight = new InflightReads()
  readonly #own: TaskCacheOwnCounters = { readTimeouts: 0, bypassed: 0, uncached: 0, invalidations: 0, unconfirmed: 0, flushes: 0 }
  /** bumped by every unconfirmed invalidation; 0 = none outstanding. Reads bypass the cache while it is not 0 */
  #unconfirmed = 0
  #flushing: Promise<void> | undefined
  #flushNotBefore = 0
  #flushRetry: NodeJS.Timeout | undefined
  #echo: Scope | undefined
  /** the drops asked for in this turn of the event loop, applied together at the next */
  #gathering: { scope: Scope; done: PromiseWithResolvers<boolean> } | undefined
  #echoTimer: NodeJS.Timeout | undefined
  #echoRun: Promise<void> | undefined
  #cleanupTimer: NodeJS.Timeout | undefined
  #listsDroppedAt = Date.now()
  #stopped = false
  readonly #warned = new Set<string>()
  #stateFailing = false

  constructor(options: TaskCachesOptions) {
    const o = resolveTaskCachesOptions(options)
    this.#o = o
    this.ttls = Object.freeze({ ...o.ttls })
    this.#log = o.logger ?? createLogger('skalds:task-cache')
    if (o.cache === undefined) {
      this.namespace = undefined
      this.#names = []
      return
    }
    const root = o.cache.namespace(o.namespace)
    // grace 0: an entry is never served past its TTL, the bound on staleness the seed's TTLs promise.
    const spaces = { root } as Spaces
    for (const type of TASK_CACHE_TYPES) spaces[type] = root.namespace(TYPE_NAMESPACE[type], { ttl: o.ttls[type], grace: 0 })
    this.#spaces = spaces
    this.namespace = root.name
    this.#names = [root.name, ...TASK_CACHE_TYPES.map((type) => spaces[type].name)]
  }

  // ---- reads ----

  async task(id: string): Promise<Task | null> {
    checkId(id, 'id')
    return this.#read('status', id, taskKey(id), () => this.#o.store.get(id))
  }

  async progress(id: string): Promise<TaskProgressView | null> {
    checkId(id, 'id')
    return this.#read('progress', id, taskKey(id), () => this.#withState(id, progressView))
  }

  async execution(id: string): Promise<TaskExecutionSummary | null> {
    checkId(id, 'id')
    return this.#read('execution', id, taskKey(id), () => this.#withState(id, executionSummary))
  }

  statistics(): Promise<TaskStatistics> {
    return this.#read('statistics', undefined, STATISTICS_KEY, async () => {
      const [byStatus, classNames] = await Promise.all([this.#o.store.countByStatus(), this.#o.store.distinctClassNames()])
      return statisticsOf(byStatus, classNames, Date.now())
    })
  }

  async list(query?: TaskListQuery): Promise<TaskPage> {
    const key = listKey(query)
    return this.#read('list', undefined, key, () => this.#o.store.list(query), [LIST_TAG])
  }

  async skaldTasks(skaldId: string): Promise<TaskPage> {
    checkId(skaldId, 'skaldId')
    return this.#read('skaldTasks', skaldId, skaldKey(skaldId), () => this.#o.store.list({ executor: skaldId, limit: this.#o.skaldTasksLimit }), [SKALD_TAG])
  }

  /** The task (through the status cache) and its run state; a view built without the state it needed is not cached. */
  async #withState<V>(id: string, build: (task: Task, state: TaskState | undefined, source: TaskStateSource, readAt: number) => V): Promise<V | null> {
    const task = await this.task(id)
    if (task === null) return null
    const reader = this.#o.state
    if (reader === undefined) return build(task, undefined, 'none', Date.now())
    let state: TaskState
    try {
      state = await reader.task(id)
    } catch (error) {
      if (!this.#stateFailing) this.#log.warn({ err: error, taskId: id }, 'task caches: the Skald state is unreadable; views carry the stored task only and are not cached (logged once until it reads again)')
      this.#stateFailing = true
      throw new Uncached(build(task, undefined, 'unavailable', Date.now()))
    }
    this.#stateFailing = false
    return build(task, state, 'read', Date.now())
  }

  /**
   * getOrSet with the store call memoised, so the store is asked once whether the cache calls the factory, the
   * deadline passes first, or both. A store error reaches the caller; a cache failure never does.
   */
  async #read<T>(type: TaskCacheType, id: string | undefined, key: string, load: () => Promise<T>, tags?: string[]): Promise<T> {
    const space = this.#spaces?.[type]
    if (space === undefined) return unwrap(load())
    if (this.#unconfirmed !== 0) {
      this.#own.bypassed++
      this.#kickFlush()
      return unwrap(load())
    }
    let loading: Promise<T> | undefined
    const once = (): Promise<T> => (loading ??= load())
    const cached = attempt(() => space.getOrSet(key, once, tags === undefined ? undefined : { tags }))
    this.#inflight.track(type, id, cached)
    try {
      const value = await deadline(cached, this.#o.readTimeoutMs)
      if (value !== TIMED_OUT) return value
      this.#own.readTimeouts++
    } catch (error) {
      if (error instanceof Uncached) {
        this.#own.uncached++
        return error.value as T
      }
      // The factory ran: its outcome is the answer (a store error is the caller's; a value the cache refused, e.g.
      // too large, is answered uncached). Otherwise the cache failed before it (strict mode): ask the store.
      if (loading !== undefined) {
        const value = await unwrap(loading)
        this.#own.uncached++
        this.#warnOnce(`uncached:${type}`, { err: error, type }, 'task caches: a value could not be cached; it is answered from the store each time (warned once per cache type)')
        return value
      }
      this.#log.debug({ err: error, type }, 'task caches: the cache failed; answered from the store')
    }
    return unwrap(once())
  }

  // ---- invalidation ----

  async changed(change: TaskChange): Promise<boolean> {
    return this.#invalidate(scopeOfChange(change))
  }

  async changedMany(changes: readonly TaskChange[]): Promise<boolean> {
    if (changes.length === 0) return true
    const scope = emptyScope()
    for (const change of changes) mergeScope(scope, scopeOfChange(change))
    return this.#invalidate(scope)
  }

  invalidateAll(): Promise<boolean> {
    return this.#invalidate(allScope())
  }

  async invalidateTask(id: string): Promise<boolean> {
    const scope = emptyScope()
    scope.tasks.add(checkId(id, 'id'))
    return this.#invalidate(scope)
  }

  async invalidateSkald(skaldId: string): Promise<boolean> {
    const scope = emptyScope()
    scope.skalds.add(checkId(skaldId, 'skaldId'))
    return this.#invalidate(scope)
  }

  /**
   * Drops asked for in one turn of the event loop are applied together (a burst of creates: one walk of the list
   * pages' tag instead of one each); each caller is answered when the merged drop is confirmed.
   */
  #invalidate(scope: Scope): Promise<boolean> {
    if (this.#spaces === undefined) return Promise.resolve(true)
    if (this.#gathering === undefined) {
      const gathering = { scope: emptyScope(), done: Promise.withResolvers<boolean>() }
      this.#gathering = gathering
      setImmediate(() => {
        this.#gathering = undefined
        this.#invalidateNow(gathering.scope).then(gathering.done.resolve, gathering.done.reject)
      })
    }
    mergeScope(this.#gathering.scope, scope)
    return this.#gathering.done.promise
  }

  async #invalidateNow(scope: Scope): Promise<boolean> {
    const ok = await this.#confirm(scope, true)
    if (!ok) {
      this.#markUnconfirmed()
      return false
    }
    this.#own.invalidations++
    this.#scheduleEcho(scope)
    return true
  }

  /**
   * Applies the scope within invalidateTimeoutMs; true when Redis confirmed it. With `settle`, the reads of this
   * process the scope touches that were in flight are awaited and the scope applied again.
   */
  async #confirm(scope: Scope, settle: boolean): Promise<boolean> {
    const work = async (): Promise<boolean> => {
      const pending = settle ? this.#inflight.matching(scope) : []
      if (!(await this.#apply(scope))) return false
      if (pending.length === 0) return true
      await Promise.allSettled(pending)
      return this.#apply(scope)
    }
    const ok = (await deadline(work(), this.#o.invalidateTimeoutMs)) === true
    if (ok && (scope.all || scope.lists)) this.#listsDroppedAt = Date.now()
    return ok
  }

  /** A non-strict cache absorbs store failures and counts them: unchanged error counters = every delete went through. */
  async #apply(scope: Scope): Promise<boolean> {
    const before = this.#errorCount()
    try {
      await applyScope(scope, this.#spaces!)
    } catch (error) {
      this.#log.debug({ err: error }, 'task caches: an invalidation failed')
      return false
    }
    return this.#errorCount() === before
  }

  #errorCount(): number {
    const stats = this.#o.cache!.stats()
    let errors = 0
    for (const name of this.#names) errors += stats[name]?.errors ?? 0
    return errors
  }

  #markUnconfirmed(): void {
    this.#own.unconfirmed++
    if (this.#unconfirmed === 0) {
      this.#log.warn('task caches: an invalidation was not confirmed by Redis; reads go to the store until a full flush of the task caches succeeds')
    }
    this.#unconfirmed++
    this.#kickFlush()
  }

  /** One flush at a time, at most one attempt per FLUSH_RETRY_MS; retried by a timer until it succeeds. */
  #kickFlush(): void {
    if (this.#flushing !== undefined || this.#unconfirmed === 0) return
    const wait = this.#flushNotBefore - Date.now()
    if (wait > 0) {
      if (this.#flushRetry === undefined && !this.#stopped) {
        this.#flushRetry = setTimeout(() => {
          this.#flushRetry = undefined
          this.#kickFlush()
        }, wait)
        this.#flushRetry.unref()
      }
      return
    }
    const generation = this.#unconfirmed
    this.#flushing = this.#confirm(allScope(), true)
      .then((ok) => {
        if (ok && this.#unconfirmed === generation) {
          this.#unconfirmed = 0
          this.#own.flushes++
          this.#log.info('task caches: flushed after unconfirmed invalidations; caching resumed')
          return
        }
        this.#flushNotBefore = Date.now() + FLUSH_RETRY_MS
      })
      .finally(() => {
        this.#flushing = undefined
        this.#kickFlush()
      })
  }

  /** Drops the scope once more after reinvalidateAfterMs (merged with others due by then), for other processes' reads. */
  #scheduleEcho(scope: Scope): void {
    const delay = this.#o.reinvalidateAfterMs
    if (delay === 0 || this.#stopped) return
    if (this.#echo === undefined) this.#echo = emptyScope()
    mergeScope(this.#echo, scope)
    if (this.#echoTimer !== undefined) return
    this.#echoTimer = setTimeout(() => {
      this.#echoTimer = undefined
      void this.#runEcho()
    }, delay)
    this.#echoTimer.unref()
  }

  async #runEcho(): Promise<void> {
    const scope = this.#echo
    this.#echo = undefined
    if (scope === undefined) return
    const run = this.#confirm(scope, false).then((ok) => {
      if (!ok) this.#markUnconfirmed()
    })
    this.#echoRun = run
    await run
  }

  // ---- warm-up, cleanup, stats ----

  async warmUp(): Promise<void> {
    if (this.#spaces === undefined) return
    await Promise.all([this.statistics(), this.list()])
  }

  startCleanup(): void {
    if (this.#cleanupTimer !== undefined) return
    this.#stopped = false
    this.#cleanupTimer = setInterval(() => {
      this.cleanup().catch((error: unknown) => this.#log.warn({ err: error }, 'task caches: cleanup failed'))
    }, this.#o.cleanupIntervalMs)
    this.#cleanupTimer.unref()
  }

  /**
   * Redis expires every entry by its TTL, so there is nothing expired to remove. What can grow is the list pages' tag
   * set (it keeps the names of pages that expired until it is dropped): every change drops it, and when none did for
   * a whole interval, this drops it with its pages. It also retries a pending flush and logs the statistics.
   */
  async cleanup(): Promise<TaskCacheCleanupReport> {
    let flush: TaskCacheCleanupReport['flush'] = 'none'
    if (this.#unconfirmed !== 0) {
      this.#flushNotBefore = 0
      this.#kickFlush()
      await this.#flushing
      flush = this.#unconfirmed === 0 ? 'succeeded' : 'failed'
    }
    let droppedListPages = false
    if (this.#spaces !== undefined && this.#unconfirmed === 0 && Date.now() - this.#listsDroppedAt >= this.#o.cleanupIntervalMs) {
      const scope = emptyScope()
      scope.lists = true
      droppedListPages = await this.#invalidate(scope)
    }
    const stats = await this.cacheStats()
    this.#log.info({ overall: stats.overall, memory: stats.memory, connection: stats.connection, counters: stats.counters }, 'task caches: statistics')
    return { droppedListPages, flush, stats }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#cleanupTimer)
    this.#cleanupTimer = undefined
    clearTimeout(this.#flushRetry)
    this.#flushRetry = undefined
    if (this.#echoTimer !== undefined) {
      clearTimeout(this.#echoTimer)
      this.#echoTimer = undefined
      await this.#runEcho()
    }
    await this.#echoRun
    await this.#flushing
  }

  async cacheStats(): Promise<TaskCacheStats> {
    const cache = this.#o.cache
    const spaces = this.#spaces
    // statistics() SCANs the keyspace once per namespace of the cache; a stalled store must not hold this up for long.
    const [statistics, health] = cache === undefined ? [undefined, undefined] : await Promise.all([deadline(cache.statistics(), STATS_TIMEOUT_MS), cache.health()])
    const names = spaces === undefined ? undefined : (Object.fromEntries(TASK_CACHE_TYPES.map((type) => [type, spaces[type].name])) as Record<TaskCacheType, string>)
    const connection = this.#o.connection
    return buildStats({
      names,
      root: this.namespace,
      ttls: this.ttls,
      counters: cache?.stats(),
      statistics: statistics === TIMED_OUT ? undefined : statistics,
      health,
      ready: connection === undefined ? undefined : connection.isReady,
      bypassing: this.#unconfirmed !== 0,
      own: this.#own,
    })
  }

  #warnOnce(what: string, fields: object, message: string): void {
    if (this.#warned.has(what)) return
    this.#warned.add(what)
    this.#log.warn(fields, message)
  }
}

/** Opens the task caches over a store and (optionally) a cache. See docs/task-caches.md. */
export function createTaskCaches(options: TaskCachesOptions): TaskCaches {
  return new TaskCachesImpl(options)
}
