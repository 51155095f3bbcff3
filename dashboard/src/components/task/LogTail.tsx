// The run's log: its newest lines from the API, then each live task_log event's new lines. "Follow" keeps the
// newest line in view; scrolling up stops following. Pino's JSON lines are shown readably (log-line.ts).
import { useEffect, useRef, useState } from 'react'
import { api, call } from '../../api/client.ts'
import { useApi } from '../../hooks/useApi.ts'
import { useLiveEvent } from '../../hooks/useLive.ts'
import { readableLogLine } from '../../log-line.ts'
import { ErrorNotice } from '../ErrorNotice.tsx'

const KEEP = 1000

export function LogTail({ taskId }: { taskId: string }) {
  const [lines, setLines] = useState<string[]>([])
  const [follow, setFollow] = useState(true)
  const box = useRef<HTMLPreElement>(null)
  const first = useApi(() => call(api.GET('/api/tasks/{task_id}/log', { params: { path: { task_id: taskId }, query: { limit: 500 } } })), [taskId])

  // the API's window replaces what we have (after a reconnection it is the truth); live lines append to it
  useEffect(() => {
    if (first.data) setLines(first.data.lines)
  }, [first.data])
  useLiveEvent((event) => {
    if (event.type !== 'task_log' || event.taskId !== taskId) return
    const fresh = Array.isArray(event.data?.lines) ? event.data.lines.map(String) : []
    if (fresh.length > 0) setLines((old) => [...old, ...fresh].slice(-KEEP))
  })
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight
  }, [lines, follow])

  return (
    <section className="card" aria-labelledby={`log-${taskId}`}>
      <div className="card-head">
        <h2 id={`log-${taskId}`}>Log</h2>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
      </div>
      <ErrorNotice error={first.error} what="read the log" />
      {first.data?.truncated && <p className="hint">Older lines are not kept: the node keeps each run's newest lines only.</p>}
      <pre
        ref={box}
        className="log"
        tabIndex={0}
        aria-label="Log lines, newest last"
        onScroll={(e) => {
          const el = e.currentTarget
          const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 8
          if (!atEnd && follow) setFollow(false)
        }}
      >
        {lines.length === 0 ? <span className="muted">{first.loading ? 'Loading…' : 'No log lines yet.'}</span> : lines.map(readableLogLine).join('\n')}
      </pre>
    </section>
  )
}
