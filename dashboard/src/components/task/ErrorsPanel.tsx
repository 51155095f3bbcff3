// What went wrong: the run's error and exception as its node wrote them (live), and the last stored error.
import { useState } from 'react'
import { api, call } from '../../api/client.ts'
import type { Task } from '../../api/types.ts'
import { useApi } from '../../hooks/useApi.ts'
import { useLiveEvent } from '../../hooks/useLive.ts'
import { ErrorNotice } from '../ErrorNotice.tsx'

export function ErrorsPanel({ task }: { task: Task }) {
  const beat = useApi(() => call(api.GET('/api/tasks/{task_id}/heartbeat', { params: { path: { task_id: task.id } } })), [task.id, task.lifecycleStatus])
  const [liveError, setLiveError] = useState<string>()
  const [liveException, setLiveException] = useState<string>()
  useLiveEvent((e) => {
    if (e.taskId !== task.id) return
    if (e.type === 'task_error' && typeof e.data?.error === 'string') setLiveError(e.data.error)
    if (e.type === 'task_exception' && typeof e.data?.exception === 'string') setLiveException(e.data.exception)
  })
  const error = liveError ?? beat.data?.error ?? task.error
  const exception = liveException ?? beat.data?.exception ?? task.exception
  const lastError = task.runtime.lastError
  const none = !error && !exception && !lastError
  return (
    <section className="card" aria-labelledby={`err-${task.id}`}>
      <h2 id={`err-${task.id}`}>Errors and exceptions</h2>
      <ErrorNotice error={beat.error} what="read the heartbeat" />
      {beat.data && (
        <p className="muted">
          Heartbeat {beat.data.heartbeat} · {beat.data.isAlive ? 'alive' : 'not beating'}
          {beat.data.isAssigning ? ' · being assigned' : ''}
        </p>
      )}
      {none && <p className="empty">No error reported.</p>}
      {error && (
        <>
          <h3>Error</h3>
          <pre className="json error-text">{error}</pre>
        </>
      )}
      {exception && (
        <>
          <h3>Exception</h3>
          <pre className="json error-text">{exception}</pre>
        </>
      )}
      {lastError && lastError !== error && (
        <>
          <h3>Last stored error (attempt {task.runtime.attempt})</h3>
          <pre className="json error-text">{lastError}</pre>
        </>
      )}
    </section>
  )
}
