// The commands one task takes, offered by its status: pause and cancel while it runs, resume a Paused one, retry a
// Failed or Cancelled one. Cancel asks to be confirmed by a second press (no modal in the way of a quick stop).
import { useEffect, useState } from 'react'
import { api, call, toApiError } from '../api/client.ts'
import type { Task, TaskStatus } from '../api/types.ts'
import { sampleNow } from '../live/sampler.ts'
import { toast } from './Toasts.tsx'

type Verb = 'pause' | 'resume' | 'retry' | 'cancel'

export function verbsFor(status: TaskStatus): Verb[] {
  switch (status) {
    case 'Running':
    case 'Assigning':
      return ['pause', 'cancel']
    case 'Paused':
      return ['resume', 'cancel']
    case 'Created':
      return ['cancel']
    case 'Failed':
    case 'Cancelled':
      return ['retry']
    default:
      return []
  }
}

const LABEL: Record<Verb, string> = { pause: 'Pause', resume: 'Resume', retry: 'Retry', cancel: 'Cancel' }
const DONE: Record<Verb, string> = { pause: 'paused', resume: 'resumed', retry: 'sent to run again', cancel: 'cancelled' }

export async function runVerb(verb: Verb, id: string): Promise<void> {
  const path = { params: { path: { task_id: id } } }
  if (verb === 'cancel') await call(api.DELETE('/api/tasks/{task_id}', path))
  else if (verb === 'pause') await call(api.POST('/api/tasks/{task_id}/pause', path))
  else if (verb === 'resume') await call(api.POST('/api/tasks/{task_id}/resume', path))
  else await call(api.POST('/api/tasks/{task_id}/retry', path))
}

interface Props {
  task: Pick<Task, 'id' | 'lifecycleStatus' | 'name'>
  onDone?: () => void
  small?: boolean
}

export function TaskActions({ task, onDone, small }: Props) {
  const [busy, setBusy] = useState<Verb>()
  const [confirming, setConfirming] = useState(false)
  useEffect(() => {
    if (!confirming) return
    const timer = setTimeout(() => setConfirming(false), 5000)
    return () => clearTimeout(timer)
  }, [confirming])

  const label = task.name || task.id
  const run = async (verb: Verb) => {
    if (verb === 'cancel' && !confirming) return setConfirming(true)
    setConfirming(false)
    setBusy(verb)
    try {
      await runVerb(verb, task.id)
      toast('ok', `Task ${label} ${DONE[verb]}`)
      sampleNow()
      onDone?.()
    } catch (e) {
      const error = toApiError(e)
      toast('error', `${LABEL[verb]} ${label}: ${error.message} (${error.code})`)
      onDone?.()
    } finally {
      setBusy(undefined)
    }
  }
  const verbs = verbsFor(task.lifecycleStatus)
  if (verbs.length === 0) return <span className="muted">—</span>
  return (
    <span className="actions">
      {verbs.map((verb) => (
        <button
          key={verb}
          type="button"
          className={`btn ${small ? 'btn-small' : ''} ${verb === 'cancel' ? 'btn-danger' : ''}`}
          disabled={busy !== undefined}
          aria-busy={busy === verb}
          aria-label={verb === 'cancel' && confirming ? `Confirm cancelling task ${label}` : `${LABEL[verb]} task ${label}`}
          onClick={() => void run(verb)}
        >
          {verb === 'cancel' && confirming ? 'Confirm cancel' : LABEL[verb]}
        </button>
      ))}
    </span>
  )
}
