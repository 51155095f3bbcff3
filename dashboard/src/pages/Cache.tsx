// The task caches (docs/task-caches.md): their connection, memory, hit rate per cache type with its history, their
// own counters, and the invalidation buttons (everything, one task, one Skald) and the clean-up job.
import { useId, useState, type FormEvent } from 'react'
import { api, call, toApiError } from '../api/client.ts'
import { Chart } from '../components/Chart.tsx'
import { ErrorNotice } from '../components/ErrorNotice.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { toast } from '../components/Toasts.tsx'
import { bytes, num, percent } from '../format.ts'
import { useSnapshot } from '../hooks/useSnapshot.ts'
import { sampleNow, type Series } from '../live/sampler.ts'

const EMPTY: Series = { t: [], v: [] }
const COUNTER_NAMES: Record<string, string> = {
  invalidations: 'Invalidations confirmed',
  unconfirmed: 'Invalidations not confirmed',
  flushes: 'Flushes',
  readTimeouts: 'Reads past the deadline',
  bypassed: 'Reads that bypassed the cache',
  uncached: 'Values not cached',
}

async function act(what: string, run: () => Promise<{ message: string; data: { confirmed?: boolean } | Record<string, unknown> }>): Promise<void> {
  try {
    const r = await run()
    toast((r.data as { confirmed?: boolean }).confirmed === false ? 'error' : 'ok', r.message)
  } catch (e) {
    const error = toApiError(e)
    toast('error', `${what}: ${error.message} (${error.code})`)
  }
  sampleNow()
}

export function Cache() {
  const snap = useSnapshot()
  const id = useId()
  const [taskId, setTaskId] = useState('')
  const [skaldId, setSkaldId] = useState('')
  const [confirmAll, setConfirmAll] = useState(false)
  const c = snap.cache
  const overall = snap.series.get('cache.hitRate') ?? EMPTY

  const all = () => {
    if (!confirmAll) return setConfirmAll(true)
    setConfirmAll(false)
    void act('Invalidate all', () => call(api.DELETE('/api/cache')))
  }
  const oneTask = (e: FormEvent) => {
    e.preventDefault()
    if (taskId.trim()) void act('Invalidate task', () => call(api.DELETE('/api/cache/tasks/{task_id}', { params: { path: { task_id: taskId.trim() } } })))
  }
  const oneSkald = (e: FormEvent) => {
    e.preventDefault()
    if (skaldId) void act('Invalidate Skald', () => call(api.DELETE('/api/cache/skalds/{skald_id}', { params: { path: { skald_id: skaldId } } })))
  }

  if (!c) {
    const missing = snap.errors.cache?.status === 404
    return (
      <>
        <h1>Cache</h1>
        {missing ? <p className="card empty">This controller runs without task caches (no Redis, or <code>caches: false</code>): every read goes to the store.</p> : <ErrorNotice error={snap.errors.cache} what="read the cache statistics" />}
        {!snap.errors.cache && <p className="empty">Loading…</p>}
      </>
    )
  }
  return (
    <>
      <div className="page-head">
        <h1>Cache</h1>
        <p className="row">
          <StatusBadge status={c.connection.status} /> <span className="muted">{c.connection.backend}</span>
          {c.connection.latencyMs !== undefined && <span className="muted">{num(c.connection.latencyMs, 1)} ms</span>}
          {c.bypassing && <span className="badge badge-failed">bypassing: reads go to the store</span>}
        </p>
      </div>
      <ErrorNotice error={snap.errors.cache} what="refresh the cache statistics" />
      {c.connection.error && <p className="notice notice-error">{c.connection.error}</p>}
      <div className="grid stats">
        <section className="card stat" aria-label="Overall hit rate">
          <h2 className="stat-title">Hit rate</h2>
          <p className="stat-value">{percent(c.overall.hitRate, 1)}</p>
          <p className="stat-sub muted">
            {num(c.overall.hits)} hits · {num(c.overall.misses)} misses · {num(c.overall.errors)} errors
          </p>
          <Chart label={`Hit rate per sampling interval, last ${percent(overall.v.at(-1) ?? null)}`} x={overall.t} yRange={[0, 1]} height={70} format={(v) => percent(v)} legend={false} series={[{ name: 'Hit rate', color: '--c-finished', values: overall.v, fill: true }]} />
        </section>
        <section className="card stat" aria-label="Keys and memory">
          <h2 className="stat-title">Keys · memory</h2>
          <p className="stat-value">{num(c.overall.keys)}</p>
          <p className="stat-sub muted">
            {bytes(c.memory.usedBytes)} used by the cache's store{c.namespace ? ` · namespace ${c.namespace}` : ''}
          </p>
        </section>
      </div>
      <section className="card" aria-labelledby={`${id}-types`}>
        <h2 id={`${id}-types`}>Per cache type</h2>
        <div className="table-wrap">
          <table className="table cards-narrow">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Keys</th>
                <th scope="col">Hit rate</th>
                <th scope="col">Hits</th>
                <th scope="col">Misses</th>
                <th scope="col">Errors</th>
                <th scope="col">TTL</th>
                <th scope="col">History</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(c.types).map(([type, t]) => {
                const s = snap.series.get(`cache.${type}.hitRate`) ?? EMPTY
                return (
                  <tr key={type}>
                    <td data-label="Type" className="mono">{type}</td>
                    <td data-label="Keys">{num(t.keys)}</td>
                    <td data-label="Hit rate">{percent(t.hitRate, 1)}</td>
                    <td data-label="Hits">{num(t.hits)}</td>
                    <td data-label="Misses">{num(t.misses)}</td>
                    <td data-label="Errors">{num(t.errors)}</td>
                    <td data-label="TTL">{t.ttlMs !== undefined ? `${num(t.ttlMs / 1000, 1)} s` : '—'}</td>
                    <td data-label="History" className="spark">
                      <Chart label={`${type} hit rate over time`} x={s.t} yRange={[0, 1]} height={30} legend={false} sparkline format={(v) => percent(v)} series={[{ name: type, color: '--c-finished', values: s.v }]} />
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      </section>
      <div className="grid two">
        <section className="card" aria-labelledby={`${id}-counters`}>
          <h2 id={`${id}-counters`}>The caches' own counters</h2>
          <dl className="facts">
            {Object.entries(c.counters).map(([k, v]) => (
              <div key={k} className="fact">
                <dt>{COUNTER_NAMES[k] ?? k}</dt>
                <dd>{num(v)}</dd>
              </div>
            ))}
          </dl>
          <button type="button" className="btn" onClick={() => void act('Clean-up', async () => ({ ...(await call(api.POST('/api/system/cleanup'))) }))}>
            Run the clean-up job now
          </button>
        </section>
        <section className="card" aria-labelledby={`${id}-inv`}>
          <h2 id={`${id}-inv`}>Invalidate</h2>
          <p className="hint">Drops entries in every controller (they share the cache); the next reads go to the store.</p>
          <form className="row" onSubmit={oneTask}>
            <label htmlFor={`${id}-task`} className="grow">
              One task's entries
              <input id={`${id}-task`} value={taskId} placeholder="task id" onChange={(e) => setTaskId(e.target.value)} />
            </label>
            <button type="submit" className="btn" disabled={!taskId.trim()}>
              Invalidate task
            </button>
          </form>
          <form className="row" onSubmit={oneSkald}>
            <label htmlFor={`${id}-skald`} className="grow">
              One Skald's task list
              <select id={`${id}-skald`} value={skaldId} onChange={(e) => setSkaldId(e.target.value)}>
                <option value="">Choose a Skald</option>
                {(snap.skalds ?? []).map((k) => (
                  <option key={k.id}>{k.id}</option>
                ))}
              </select>
            </label>
            <button type="submit" className="btn" disabled={!skaldId}>
              Invalidate Skald
            </button>
          </form>
          <div className="row">
            <button type="button" className="btn btn-danger" onClick={all}>
              {confirmAll ? 'Confirm: drop every entry' : 'Invalidate everything'}
            </button>
            {confirmAll && (
              <button type="button" className="btn" onClick={() => setConfirmAll(false)}>
                Keep them
              </button>
            )}
          </div>
        </section>
      </div>
    </>
  )
}
