// The task's state changes, each with the Skald that ran the attempt (GET /api/tasks/{id}/timeline): every change
// of status or node the store recorded, oldest first.
import { api, call } from '../../api/client.ts'
import { dateTime } from '../../format.ts'
import { useApi } from '../../hooks/useApi.ts'
import { useReloadOn } from '../../hooks/useDebouncedLive.ts'
import { ErrorNotice } from '../ErrorNotice.tsx'
import { StatusBadge } from '../StatusBadge.tsx'

export function TimelinePanel({ taskId }: { taskId: string }) {
  const tl = useApi(() => call(api.GET('/api/tasks/{task_id}/timeline', { params: { path: { task_id: taskId } } })), [taskId])
  useReloadOn((e) => e.taskId === taskId && e.type === 'task_status', tl.reload, 800)
  const entries = tl.data?.entries ?? []
  return (
    <section className="card" aria-labelledby={`tl-${taskId}`}>
      <h2 id={`tl-${taskId}`}>Timeline</h2>
      <ErrorNotice error={tl.error} what="read the timeline" />
      {tl.data && entries.length === 0 && <p className="empty">No state change recorded yet.</p>}
      {entries.length > 0 && (
        <ol className="timeline">
          {entries.map((e, i) => (
            <li key={`${e.at}-${i}`}>
              <time dateTime={e.at}>{dateTime(e.at)}</time>
              <StatusBadge status={e.lifecycleStatus} />
              {e.attempt > 0 && <span className="muted">attempt {e.attempt}</span>}
              {e.executor && (
                <span>
                  on <span className="mono">{e.executor}</span>
                </span>
              )}
              {e.message && <span className="sub">{e.message}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
