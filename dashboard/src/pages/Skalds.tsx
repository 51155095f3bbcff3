// The Skalds (nodes and edges) as the controller's node monitor sees them: status, mode, classes with their running
// / capacity, the tasks they run, and CPU and memory over time (sampled by the dashboard from each heartbeat's load).
import { useRef, useState } from 'react'
import type { Skald } from '../api/types.ts'
import { Chart } from '../components/Chart.tsx'
import { ErrorNotice } from '../components/ErrorNotice.tsx'
import { Link } from '../components/Link.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { ago, num } from '../format.ts'
import { useLiveEvent } from '../hooks/useLive.ts'
import { useSnapshot } from '../hooks/useSnapshot.ts'
import { sampleNow, type Series } from '../live/sampler.ts'

const EMPTY: Series = { t: [], v: [] }

function Capacity({ running, capacity, label }: { running: number; capacity: number | null; label: string }) {
  return (
    <span className="capacity">
      {capacity === null ? (
        <>{num(running)} running · no limit</>
      ) : (
        <>
          <meter min={0} max={Math.max(1, capacity)} value={running} high={Math.max(1, capacity) * 0.99} aria-label={`${label}: ${running} of ${capacity}`} />
          {num(running)} / {num(capacity)}
        </>
      )}
    </span>
  )
}

function SkaldCard({ skald, series }: { skald: Skald; series: ReadonlyMap<string, Series> }) {
  const cpu = series.get(`skald.${skald.id}.cpu`) ?? EMPTY
  const rss = series.get(`skald.${skald.id}.rss`) ?? EMPTY
  const load = skald.load
  return (
    <article className="card skald" aria-labelledby={`skald-${skald.id}`}>
      <header className="card-head">
        <h2 id={`skald-${skald.id}`} className="mono">
          {skald.id}
        </h2>
        <span className="row">
          <StatusBadge status={skald.status} />
          <span className="badge badge-mode">{skald.type}</span>
          {load?.draining && <span className="badge badge-paused">draining</span>}
        </span>
      </header>
      <dl className="facts">
        <dt>Running</dt>
        <dd>{load ? <Capacity running={load.running} capacity={load.capacity} label="Tasks running" /> : num(skald.taskCount)}</dd>
        <dt>Heartbeat</dt>
        <dd>
          {skald.heartbeat} · {ago(skald.lastHeartbeat)}
        </dd>
        {load && (
          <>
            <dt>CPU</dt>
            <dd>{num(load.cpuPercent, 1)}%</dd>
            <dt>Memory</dt>
            <dd>{num(load.rssMb, 0)} MB RSS</dd>
          </>
        )}
      </dl>
      {load ? (
        <div className="grid two tight">
          <Chart label={`CPU of ${skald.id} over time, now ${num(load.cpuPercent, 1)}%`} x={cpu.t} height={60} format={(v) => `${Math.round(v)}%`} series={[{ name: 'CPU %', color: '--c-accent', values: cpu.v, fill: true }]} />
          <Chart label={`Memory of ${skald.id} over time, now ${num(load.rssMb)} MB`} x={rss.t} height={60} format={(v) => `${Math.round(v)}`} series={[{ name: 'RSS MB', color: '--c-paused', values: rss.v, fill: true }]} />
        </div>
      ) : (
        <p className="hint">This Skald reports no load (a Python node): no CPU, memory or capacity.</p>
      )}
      <h3>Classes</h3>
      <ul className="classes">
        {skald.supportedTasks.length === 0 && <li className="muted">none advertised</li>}
        {skald.supportedTasks.map((c) => {
          const cls = load?.classes[c]
          return (
            <li key={c}>
              <Link to={`tasks?className=${encodeURIComponent(c)}`} className="mono">
                {c}
              </Link>
              {cls && <Capacity running={cls.running} capacity={cls.capacity} label={`${c} running`} />}
            </li>
          )
        })}
      </ul>
      <h3>Tasks ({skald.currentTasks.length})</h3>
      {skald.currentTasks.length === 0 ? (
        <p className="muted">idle</p>
      ) : (
        <ul className="chips">
          {skald.currentTasks.map((t) => (
            <li key={t}>
              <Link to={`tasks/${encodeURIComponent(t)}`} className="mono">
                {t}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </article>
  )
}

export function Skalds() {
  const snap = useSnapshot()
  const [filter, setFilter] = useState<'all' | 'online' | 'offline'>('all')
  const pending = useRef<ReturnType<typeof setTimeout>>(undefined)
  // a Skald came or went: sample now rather than at the next tick
  useLiveEvent((e) => {
    if (e.type !== 'skald_status') return
    clearTimeout(pending.current)
    pending.current = setTimeout(sampleNow, 300)
  })
  const skalds = (snap.skalds ?? []).filter((k) => filter === 'all' || k.status === filter)
  const online = (snap.skalds ?? []).filter((k) => k.status === 'online').length
  return (
    <>
      <div className="page-head">
        <h1>Skalds</h1>
        <div className="row">
          <span className="muted">
            {online} online of {snap.skalds?.length ?? 0}
          </span>
          <label htmlFor="skald-filter" className="sr-only">
            Show
          </label>
          <select id="skald-filter" value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
            <option value="all">All Skalds</option>
            <option value="online">Online only</option>
            <option value="offline">Offline only</option>
          </select>
        </div>
      </div>
      <ErrorNotice error={snap.errors.skalds} what="list the Skalds" />
      {snap.skalds && skalds.length === 0 && <p className="empty card">{snap.skalds.length === 0 ? 'No Skald has registered with this controller yet. Start one with `skalds node`.' : 'No Skald matches.'}</p>}
      {!snap.skalds && !snap.errors.skalds && <p className="empty">Loading…</p>}
      <div className="grid skalds">
        {skalds.map((k) => (
          <SkaldCard key={k.id} skald={k} series={snap.series} />
        ))}
      </div>
    </>
  )
}
