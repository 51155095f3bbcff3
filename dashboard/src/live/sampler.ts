// The history behind the overview's charts. The controller keeps no history of its counts, so the dashboard samples
// them itself every few seconds, from the moment it opens (whatever page is shown), and keeps the last hour in
// memory: task counts by status, Skalds online, each Skald's CPU / memory / running, dispatches per minute (from
// the Prometheus counter), the task caches' hit rate over each interval.
import { api, ApiError, call, toApiError } from '../api/client.ts'
import { STATUSES, type CacheStats, type Skald, type Summary } from '../api/types.ts'
import { onRefresh } from './live.ts'

export const SAMPLE_MS = 5000
const KEEP = 720 // one hour of samples

export interface Series {
  t: number[] // epoch seconds (uPlot's x unit)
  v: (number | null)[]
}

export interface Snapshot {
  version: number
  summary: Summary | undefined
  skalds: Skald[] | undefined
  cache: CacheStats | undefined
  /** the last failure per source (summary, skalds, metrics, cache), cleared by a success */
  errors: Partial<Record<'summary' | 'skalds' | 'metrics' | 'cache', ApiError>>
  series: ReadonlyMap<string, Series>
}

const series = new Map<string, Series>()
let snapshot: Snapshot = { version: 0, summary: undefined, skalds: undefined, cache: undefined, errors: {}, series }
const listeners = new Set<() => void>()
let previousDispatches: { at: number; total: number } | undefined
/** routes this controller does not have (404): not asked again until a reconnection (it may be another controller) */
const absent = new Set<'metrics' | 'cache'>()
let previousCache: { hits: number; misses: number; types: Record<string, { hits: number; misses: number }> } | undefined
/** whether this controller runs the task caches (its config's `engines.cache`): asked once per connection, so a
 * controller without them is never sent a request that can only fail */
let cachesOn: Promise<boolean> | undefined
const hasCaches = (): Promise<boolean> =>
  (cachesOn ??= call(api.GET('/api/system/config')).then(
    (config) => config.engines.cache !== null,
    () => true,
  ))

function push(name: string, t: number, v: number | null): void {
  let s = series.get(name)
  if (!s) {
    s = { t: [], v: [] }
    series.set(name, s)
  }
  s.t.push(t)
  s.v.push(v)
  if (s.t.length > KEEP) {
    s.t.shift()
    s.v.shift()
  }
}

/** `skalds_control_decisions_total{type="task-dispatched"}` from the Prometheus text; undefined when absent. */
export function dispatchedTotal(text: string): number | undefined {
  const match = /^skalds_control_decisions_total\{[^}]*type="task-dispatched"[^}]*\}\s+([0-9.e+-]+)/m.exec(text)
  return match ? Number(match[1]) : text.includes('skalds_control_decisions_total') ? 0 : undefined
}

function absentError(path: string): ApiError {
  return new ApiError(404, 'E_ROUTE_NOT_FOUND', `this controller has no ${path}`)
}

function intervalRate(hits: number, misses: number, before: { hits: number; misses: number } | undefined): number | null {
  const h = hits - (before?.hits ?? 0)
  const m = misses - (before?.misses ?? 0)
  // counters restart with the controller: then the totals are this interval's best estimate
  if (h < 0 || m < 0) return hits + misses === 0 ? null : hits / (hits + misses)
  return h + m === 0 ? null : h / (h + m)
}

async function sample(): Promise<void> {
  const at = Date.now()
  const t = Math.round(at / 1000)
  const errors: Snapshot['errors'] = {}
  const [summary, skalds, metrics, cache] = await Promise.allSettled([
    call(api.GET('/api/system/dashboard/summary')),
    call(api.GET('/api/skalds')),
    absent.has('metrics') ? Promise.reject(absentError('/metrics')) : call(api.GET('/metrics', { parseAs: 'text' })),
    hasCaches().then((on) => (!on || absent.has('cache') ? Promise.reject(absentError('/api/cache/stats')) : call(api.GET('/api/cache/stats')))),
  ])
  if (metrics.status === 'rejected' && toApiError(metrics.reason).status === 404) absent.add('metrics')
  if (cache.status === 'rejected' && toApiError(cache.reason).status === 404) absent.add('cache')
  let next = { ...snapshot }
  if (summary.status === 'fulfilled') {
    const s = summary.value
    next.summary = s
    const byStatus: Record<string, number> = { Created: s.createdTasks, Assigning: s.assigningTasks, Running: s.runningTasks, Paused: s.pausedTasks, Finished: s.finishedTasks, Failed: s.failedTasks, Cancelled: s.cancelledTasks }
    for (const status of STATUSES) push(`tasks.${status}`, t, byStatus[status] ?? 0)
    push('skalds.online', t, s.onlineSkalds)
  } else errors.summary = toApiError(summary.reason)
  if (skalds.status === 'fulfilled') {
    next.skalds = skalds.value.items
    for (const k of skalds.value.items) {
      push(`skald.${k.id}.cpu`, t, k.load ? k.load.cpuPercent : null)
      push(`skald.${k.id}.rss`, t, k.load ? k.load.rssMb : null)
      push(`skald.${k.id}.running`, t, k.load?.running ?? k.taskCount)
    }
  } else errors.skalds = toApiError(skalds.reason)
  if (metrics.status === 'fulfilled') {
    const total = dispatchedTotal(String(metrics.value))
    if (total !== undefined) {
      const before = previousDispatches
      if (before && total >= before.total) push('dispatch.perMinute', t, ((total - before.total) * 60_000) / Math.max(1, at - before.at))
      previousDispatches = { at, total }
    }
  } else errors.metrics = toApiError(metrics.reason)
  if (cache.status === 'fulfilled') {
    const c = cache.value as unknown as CacheStats
    next.cache = c
    push('cache.hitRate', t, intervalRate(c.overall.hits, c.overall.misses, previousCache))
    for (const [type, counters] of Object.entries(c.types)) push(`cache.${type}.hitRate`, t, intervalRate(counters.hits, counters.misses, previousCache?.types[type]))
    previousCache = { hits: c.overall.hits, misses: c.overall.misses, types: Object.fromEntries(Object.entries(c.types).map(([k, v]) => [k, { hits: v.hits, misses: v.misses }])) }
  } else errors.cache = toApiError(cache.reason)
  next = { ...next, errors, version: snapshot.version + 1 }
  snapshot = next
  for (const listener of listeners) listener()
}

let timer: ReturnType<typeof setInterval> | undefined

export function startSampler(): void {
  if (timer) return
  void sample()
  timer = setInterval(() => void sample(), SAMPLE_MS)
  onRefresh(() => {
    absent.clear()
    cachesOn = undefined
    void sample()
  })
}

/** Samples now (after an action, so the counts do not wait for the next tick). */
export function sampleNow(): void {
  void sample()
}

export function getSnapshot(): Snapshot {
  return snapshot
}

export function subscribeSnapshot(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
