// The last checkpoint: what a resumed run starts from (the running run's newest, or the stored one).
import { api, call } from '../../api/client.ts'
import { bytes, dateTime } from '../../format.ts'
import { useApi } from '../../hooks/useApi.ts'
import { useReloadOn } from '../../hooks/useDebouncedLive.ts'
import { ErrorNotice } from '../ErrorNotice.tsx'

export function CheckpointPanel({ taskId, live }: { taskId: string; live: boolean }) {
  const cp = useApi(() => call(api.GET('/api/tasks/{task_id}/checkpoint', { params: { path: { task_id: taskId } } })), [taskId], live ? 5000 : undefined)
  useReloadOn((e) => e.taskId === taskId && e.type === 'task_status', cp.reload)
  const c = cp.data
  return (
    <section className="card" aria-labelledby={`cp-${taskId}`}>
      <h2 id={`cp-${taskId}`}>Checkpoint</h2>
      <ErrorNotice error={cp.error} what="read the checkpoint" />
      {c && (c.state === null || c.state === undefined) && <p className="empty">No checkpoint: a resumed or retried run starts from the beginning.</p>}
      {c && c.state !== null && c.state !== undefined && (
        <>
          <dl className="facts">
            <dt>Epoch</dt>
            <dd>{c.epoch ?? '—'}</dd>
            <dt>Written</dt>
            <dd>{c.timestamp ? dateTime(c.timestamp) : 'stored when the run stopped'}</dd>
            <dt>Size</dt>
            <dd>{bytes(c.bytes)}</dd>
          </dl>
          <pre className="json" tabIndex={0} aria-label="Checkpoint state">
            {JSON.stringify(c.state, null, 2)}
          </pre>
        </>
      )}
    </section>
  )
}
