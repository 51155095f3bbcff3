// Cancelling many tasks: the selected rows (one call each), or every live task the current filter matches (one
// `POST /api/tasks/cancel`). Both ask for a second press; the result says how many were cancelled and skipped.
import { useState } from 'react'
import { api, call, toApiError } from '../api/client.ts'
import { LIVE_STATUSES, type TaskStatus } from '../api/types.ts'
import { num } from '../format.ts'
import { sampleNow } from '../live/sampler.ts'
import { runVerb } from './TaskActions.tsx'
import { toast } from './Toasts.tsx'

interface Props {
  selected: ReadonlySet<string>
  filter: { status: TaskStatus | undefined; className: string | undefined; q: string | undefined }
  total: number
  onDone: () => void
}

type Confirm = 'selected' | 'filter' | undefined

export function BulkBar({ selected, filter, total, onDone }: Props) {
  const [confirm, setConfirm] = useState<Confirm>()
  const [busy, setBusy] = useState(false)
  const filtered = filter.status !== undefined || filter.className !== undefined || filter.q !== undefined
  const liveFilter = filter.status === undefined || LIVE_STATUSES.includes(filter.status)

  const cancelSelected = async () => {
    const ids = [...selected]
    const results = await Promise.allSettled(ids.map((id) => runVerb('cancel', id)))
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${ids[i]}: ${toApiError(r.reason).message}`] : []))
    toast(failed.length ? 'error' : 'ok', `Cancelled ${ids.length - failed.length} of ${ids.length}${failed.length ? `; not cancelled: ${failed.slice(0, 3).join('; ')}` : ''}`)
  }
  const cancelByFilter = async () => {
    const body = {
      ...(filter.status ? { lifecycleStatus: [filter.status as 'Created' | 'Assigning' | 'Running' | 'Paused'] } : {}),
      ...(filter.className ? { className: filter.className } : {}),
      ...(filter.q ? { id: filter.q } : {}),
      ...(filtered ? {} : { all: true }),
    }
    const r = await call(api.POST('/api/tasks/cancel', { body }))
    toast(r.skipped.length ? 'error' : 'ok', `Matched ${r.matched}, cancelled ${r.cancelled.length}${r.skipped.length ? `, skipped ${r.skipped.length} (${r.skipped[0]?.reason ?? ''})` : ''}`)
  }
  const run = async (which: Exclude<Confirm, undefined>) => {
    if (confirm !== which) return setConfirm(which)
    setConfirm(undefined)
    setBusy(true)
    try {
      await (which === 'selected' ? cancelSelected() : cancelByFilter())
    } catch (e) {
      const error = toApiError(e)
      toast('error', `Bulk cancel: ${error.message} (${error.code})`)
    } finally {
      setBusy(false)
      sampleNow()
      onDone()
    }
  }
  return (
    <div className="bulk" role="region" aria-label="Bulk actions">
      <span>{selected.size > 0 ? `${num(selected.size)} selected` : 'Select rows to act on several tasks'}</span>
      <button type="button" className="btn btn-small btn-danger" disabled={selected.size === 0 || busy} onClick={() => void run('selected')}>
        {confirm === 'selected' ? `Confirm: cancel ${selected.size}` : 'Cancel selected'}
      </button>
      <button
        type="button"
        className="btn btn-small btn-danger"
        disabled={busy || !liveFilter || total === 0}
        title={liveFilter ? 'Cancel every live task (Created, Assigning, Running, Paused) the filter matches, on every page' : 'Only live tasks can be cancelled'}
        onClick={() => void run('filter')}
      >
        {confirm === 'filter' ? (filtered ? 'Confirm: cancel all matching' : 'Confirm: cancel EVERY live task') : filtered ? 'Cancel all matching the filter' : 'Cancel all live tasks'}
      </button>
      {confirm && (
        <button type="button" className="btn btn-small" onClick={() => setConfirm(undefined)}>
          Keep them
        </button>
      )}
    </div>
  )
}
