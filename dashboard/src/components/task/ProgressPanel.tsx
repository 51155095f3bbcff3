// The run's progress and heartbeat over time: the first values from the API, then each live task_progress and
// task_heartbeat event (and a poll every few seconds, for tasks past the controller's watch limit). The history is
// kept per task for this browser session, so leaving the page and coming back keeps it.
import { useEffect, useState } from 'react'
import { api, call } from '../../api/client.ts'
import { num } from '../../format.ts'
import { useLiveEvent } from '../../hooks/useLive.ts'
import { Chart } from '../Chart.tsx'

interface History {
  t: number[]
  progress: (number | null)[]
  heartbeat: (number | null)[]
  message: string | null
}

const histories = new Map<string, History>()
const KEEP = 600

function historyOf(id: string): History {
  let h = histories.get(id)
  if (!h) {
    h = { t: [], progress: [], heartbeat: [], message: null }
    histories.set(id, h)
  }
  return h
}

function record(h: History, at: number, progress: number | null, heartbeat: number | null): void {
  const t = Math.round(at / 1000)
  const last = h.t.length - 1
  // one point per second: later values of the same second replace the earlier ones
  if (last >= 0 && h.t[last] === t) {
    if (progress !== null) h.progress[last] = progress
    if (heartbeat !== null) h.heartbeat[last] = heartbeat
    return
  }
  h.t.push(t)
  h.progress.push(progress ?? h.progress[last] ?? null)
  h.heartbeat.push(heartbeat ?? h.heartbeat[last] ?? null)
  if (h.t.length > KEEP) {
    h.t.shift()
    h.progress.shift()
    h.heartbeat.shift()
  }
}

export function ProgressPanel({ taskId, live }: { taskId: string; live: boolean }) {
  const [, setVersion] = useState(0)
  const h = historyOf(taskId)
  const bump = () => setVersion((v) => v + 1)

  useEffect(() => {
    let stop = false
    const poll = async () => {
      const [p, b] = await Promise.allSettled([call(api.GET('/api/tasks/{task_id}/progress', { params: { path: { task_id: taskId } } })), call(api.GET('/api/tasks/{task_id}/heartbeat', { params: { path: { task_id: taskId } } }))])
      if (stop) return
      const progress = p.status === 'fulfilled' ? (p.value.progress?.value ?? null) : null
      if (p.status === 'fulfilled' && p.value.progress) h.message = p.value.progress.message
      record(h, Date.now(), progress, b.status === 'fulfilled' ? b.value.heartbeat : null)
      bump()
    }
    void poll()
    const timer = live ? setInterval(() => void poll(), 5000) : undefined
    return () => {
      stop = true
      clearInterval(timer)
    }
  }, [taskId, live, h])

  useLiveEvent((event) => {
    if (event.taskId !== taskId) return
    const at = event.timestamp ?? Date.now()
    if (event.type === 'task_progress' && typeof event.data?.value === 'number') {
      h.message = typeof event.data.message === 'string' ? event.data.message : h.message
      record(h, at, event.data.value, null)
      bump()
    } else if (event.type === 'task_heartbeat' && typeof event.data?.heartbeat === 'number') {
      record(h, at, null, event.data.heartbeat)
      bump()
    }
  })

  const value = h.progress.findLast((v) => v !== null) ?? null
  return (
    <section className="card" aria-labelledby={`progress-${taskId}`}>
      <h2 id={`progress-${taskId}`}>Progress</h2>
      <div className="progress-row">
        <progress max={100} value={value ?? undefined} aria-label="Progress">
          {num(value, 1)}%
        </progress>
        <b>{value === null ? 'no progress reported' : `${num(value, 1)}%`}</b>
      </div>
      {h.message && <p className="mono sub">{h.message}</p>}
      <Chart
        label={`Progress and heartbeat over time; progress now ${num(value, 1)}%`}
        x={h.t}
        height={110}
        series={[
          { name: 'Progress %', color: '--c-running', values: h.progress, fill: true },
          { name: 'Heartbeat', color: '--c-paused', values: h.heartbeat },
        ]}
      />
    </section>
  )
}
