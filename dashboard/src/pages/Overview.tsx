// The deployment at a glance: tasks by status, Skalds online, dispatch rate and cache hit rate with their history
// (sampled by the dashboard itself), the controller's health, and the tasks running now with their controls.
import { api, call } from '../api/client.ts'
import { STATUSES } from '../api/types.ts'
import { ErrorNotice } from '../components/ErrorNotice.tsx'
import { Link } from '../components/Link.tsx'
import { StatCard } from '../components/StatCard.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { TaskTable } from '../components/TaskTable.tsx'
import { num, percent } from '../format.ts'
import { useApi } from '../hooks/useApi.ts'
import { useReloadOn } from '../hooks/useDebouncedLive.ts'
import { useSnapshot } from '../hooks/useSnapshot.ts'
import type { Series } from '../live/sampler.ts'

const EMPTY: Series = { t: [], v: [] }

export function Overview() {
  const snap = useSnapshot()
  const s = (name: string) => snap.series.get(name) ?? EMPTY
  const health = useApi(() => call(api.GET('/api/system/health')), [], 10_000)
  const running = useApi(() => call(api.GET('/api/tasks', { params: { query: { lifecycleStatus: 'Running', pageSize: 10, sortBy: 'updateDateTime' } } })), [], 15_000)
  const failed = useApi(() => call(api.GET('/api/tasks', { params: { query: { lifecycleStatus: 'Failed', pageSize: 5, sortBy: 'updateDateTime' } } })), [], 30_000)
  useReloadOn((e) => e.type === 'task_status', () => Promise.all([running.reload(), failed.reload()]))

  const sum = snap.summary
  const tasks = s('tasks.Running')
  const dispatch = s('dispatch.perMinute')
  const hit = s('cache.hitRate')
  const counts: Record<string, number | undefined> = sum
    ? { Created: sum.createdTasks, Assigning: sum.assigningTasks, Running: sum.runningTasks, Paused: sum.pausedTasks, Finished: sum.finishedTasks, Failed: sum.failedTasks, Cancelled: sum.cancelledTasks }
    : {}
  const lastOf = (x: Series) => x.v.at(-1) ?? null

  return (
    <>
      <div className="page-head">
        <h1>Overview</h1>
        {health.data && (
          <p className="health">
            Controller <StatusBadge status={health.data.status} />
            {Object.entries(health.data.services).map(([name, svc]) => (
              <span key={name} className="svc" title={svc.error ?? `${name}: ${svc.status}`}>
                {name} <StatusBadge status={svc.status} />
                {svc.latencyMs !== undefined && <span className="muted"> {num(svc.latencyMs, 1)} ms</span>}
              </span>
            ))}
          </p>
        )}
      </div>
      <ErrorNotice error={snap.errors.summary} what="read the task counts" />
      <ErrorNotice error={health.error} what="check the controller's health" />
      <div className="grid stats">
        <StatCard
          title="Tasks by status"
          value={sum ? num(sum.totalTasks) : '—'}
          sub={
            <ul className="counts" aria-label="Tasks per status">
              {STATUSES.map((st) => (
                <li key={st}>
                  <Link to={`tasks?status=${st}`}>
                    <StatusBadge status={st} /> <b>{num(counts[st])}</b>
                  </Link>
                </li>
              ))}
            </ul>
          }
          x={tasks.t}
          legend
          series={[
            { name: 'Running', color: '--c-running', values: tasks.v },
            { name: 'Waiting', color: '--c-created', values: s('tasks.Created').v },
            { name: 'Paused', color: '--c-paused', values: s('tasks.Paused').v },
            { name: 'Failed', color: '--c-failed', values: s('tasks.Failed').v },
          ]}
          chartLabel={`Running tasks over time; now ${num(lastOf(tasks))}`}
        />
        <StatCard
          title="Skalds online"
          value={sum ? `${num(sum.onlineSkalds)} / ${num(sum.totalSkalds)}` : '—'}
          sub={sum && <span className="muted">{num(sum.nodeSkalds)} node · {num(sum.edgeSkalds)} edge</span>}
          x={s('skalds.online').t}
          series={[{ name: 'Online', color: '--c-ok', values: s('skalds.online').v, fill: true }]}
          chartLabel={`Skalds online over time; now ${num(lastOf(s('skalds.online')))}`}
        />
        <StatCard
          title="Dispatch rate"
          value={`${num(lastOf(dispatch), 1)} / min`}
          sub={<span className="muted">{snap.errors.metrics ? `metrics unavailable: ${snap.errors.metrics.message}` : 'tasks assigned to Skalds (this controller)'}</span>}
          x={dispatch.t}
          series={[{ name: 'Dispatches / min', color: '--c-accent', values: dispatch.v, fill: true }]}
          chartLabel={`Dispatches per minute over time; now ${num(lastOf(dispatch), 1)}`}
        />
        <StatCard
          title="Cache hit rate"
          value={snap.cache ? percent(snap.cache.overall.hitRate) : snap.errors.cache ? 'off' : '—'}
          sub={<span className="muted">{snap.errors.cache ? 'no task caches on this controller' : `last interval ${percent(lastOf(hit))} · since start ${percent(snap.cache?.overall.hitRate)}`}</span>}
          x={hit.t}
          yRange={[0, 1]}
          format={(v) => percent(v)}
          series={[{ name: 'Hit rate', color: '--c-finished', values: hit.v, fill: true }]}
          chartLabel={`Cache hit rate per interval; last ${percent(lastOf(hit))}`}
        />
      </div>
      <section className="card" aria-labelledby="running-title">
        <div className="card-head">
          <h2 id="running-title">Running now</h2>
          <Link to="tasks?status=Running">All running tasks →</Link>
        </div>
        <ErrorNotice error={running.error} what="list the running tasks" />
        <TaskTable tasks={running.data?.items ?? []} loading={running.loading} empty="No task is running." onChanged={() => void running.reload()} compact />
      </section>
      <section className="card" aria-labelledby="failed-title">
        <div className="card-head">
          <h2 id="failed-title">Recent failures</h2>
          <Link to="tasks?status=Failed">All failed tasks →</Link>
        </div>
        <ErrorNotice error={failed.error} what="list the failed tasks" />
        <TaskTable tasks={failed.data?.items ?? []} loading={failed.loading} empty="No failed task." onChanged={() => void failed.reload()} compact showError />
      </section>
    </>
  )
}
