// One task: what it is, its controls, its progress and heartbeat over time, the live log, its attachments (edited
// in place), checkpoint, errors and timeline. Follows the task's live status changes.
import { api, call, ApiError } from '../api/client.ts'
import { ErrorNotice } from '../components/ErrorNotice.tsx'
import { Link } from '../components/Link.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { TaskActions } from '../components/TaskActions.tsx'
import { AttachmentsPanel } from '../components/task/AttachmentsPanel.tsx'
import { CheckpointPanel } from '../components/task/CheckpointPanel.tsx'
import { ErrorsPanel } from '../components/task/ErrorsPanel.tsx'
import { LogTail } from '../components/task/LogTail.tsx'
import { ProgressPanel } from '../components/task/ProgressPanel.tsx'
import { TimelinePanel } from '../components/task/TimelinePanel.tsx'
import { ago, dateTime } from '../format.ts'
import { useApi } from '../hooks/useApi.ts'
import { useReloadOn } from '../hooks/useDebouncedLive.ts'

export function TaskDetail({ id }: { id: string }) {
  const task = useApi(() => call(api.GET('/api/tasks/{task_id}', { params: { path: { task_id: id } } })), [id], 10_000)
  useReloadOn((e) => e.taskId === id && (e.type === 'task_status' || e.type === 'task_error' || e.type === 'task_exception'), task.reload, 150)
  const t = task.data
  const notFound = task.error instanceof ApiError && task.error.code === 'E_TASK_NOT_FOUND'

  if (!t) {
    return (
      <>
        <p className="crumbs">
          <Link to="tasks">← Tasks</Link>
        </p>
        <h1 className="mono">{id}</h1>
        {notFound ? <p className="notice notice-error" role="alert">There is no task “{id}”. It may have been deleted, or the link is wrong.</p> : <ErrorNotice error={task.error} what="read the task" onRetry={() => void task.reload()} />}
        {task.loading && <p className="empty">Loading…</p>}
      </>
    )
  }
  const live = t.lifecycleStatus === 'Running' || t.lifecycleStatus === 'Assigning' || t.lifecycleStatus === 'Paused'
  return (
    <>
      <p className="crumbs">
        <Link to="tasks">← Tasks</Link>
      </p>
      <div className="page-head">
        <h1>
          {t.name || t.id} <StatusBadge status={t.lifecycleStatus} />
        </h1>
        <TaskActions task={t} onDone={() => void task.reload()} />
      </div>
      <ErrorNotice error={task.error} what="refresh the task" />
      <section className="card" aria-label="Task facts">
        <dl className="facts wide">
          <dt>Id</dt>
          <dd className="mono">{t.id}</dd>
          <dt>Class</dt>
          <dd className="mono">{t.className}</dd>
          <dt>Skald</dt>
          <dd className="mono">{t.executor ?? '—'}</dd>
          <dt>Mode</dt>
          <dd>{t.mode}</dd>
          <dt>Priority</dt>
          <dd>{t.priority}</dd>
          <dt>Attempt</dt>
          <dd>
            {t.runtime.attempt}
            {t.runtime.maxRetries !== null ? ` (up to ${t.runtime.maxRetries} retries)` : ''} · epoch {t.runtime.epoch}
          </dd>
          <dt>Created</dt>
          <dd>{dateTime(t.createDateTime)}</dd>
          <dt>Updated</dt>
          <dd title={dateTime(t.updateDateTime)}>{ago(t.updateDateTime)}</dd>
          {t.runtime.pausedAt !== null && (
            <>
              <dt>Paused</dt>
              <dd>{dateTime(t.runtime.pausedAt)}</dd>
            </>
          )}
          {t.runtime.notBefore !== null && (
            <>
              <dt>Next try</dt>
              <dd>{dateTime(t.runtime.notBefore)}</dd>
            </>
          )}
          {t.deadlineDateTime > 0 && (
            <>
              <dt>Deadline</dt>
              <dd>{dateTime(t.deadlineDateTime)}</dd>
            </>
          )}
          <dt>Source</dt>
          <dd>{t.source}</dd>
          {t.dependencies && t.dependencies.length > 0 && (
            <>
              <dt>Waits on</dt>
              <dd>
                {t.dependencies.map((d) => (
                  <Link key={d} to={`tasks/${encodeURIComponent(d)}`} className="mono dep">
                    {d}
                  </Link>
                ))}
              </dd>
            </>
          )}
          {t.description && (
            <>
              <dt>Description</dt>
              <dd>{t.description}</dd>
            </>
          )}
        </dl>
      </section>
      <div className="grid two">
        <ProgressPanel taskId={t.id} live={live} />
        <ErrorsPanel task={t} />
      </div>
      <LogTail taskId={t.id} />
      <div className="grid two">
        <AttachmentsPanel task={t} onSaved={() => void task.reload()} />
        <CheckpointPanel taskId={t.id} live={live} />
      </div>
      <TimelinePanel taskId={t.id} />
    </>
  )
}
