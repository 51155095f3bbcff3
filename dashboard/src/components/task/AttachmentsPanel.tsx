// The task's attachments, edited in place: saved with PUT /attachments (a running worker takes them live), the JSON
// error or the API's refusal shown under the editor. Live changes of the task do not overwrite an edit under way.
import { useEffect, useState } from 'react'
import { api, call, toApiError, type ApiError } from '../../api/client.ts'
import type { Task } from '../../api/types.ts'
import { JsonEditor, parseAttachments } from '../JsonEditor.tsx'
import { toast } from '../Toasts.tsx'

const pretty = (value: unknown) => JSON.stringify(value ?? {}, null, 2)

export function AttachmentsPanel({ task, onSaved }: { task: Task; onSaved: () => void }) {
  const stored = pretty(task.attachments)
  const [text, setText] = useState(stored)
  const [base, setBase] = useState(stored)
  const [error, setError] = useState<ApiError>()
  const [busy, setBusy] = useState(false)
  const dirty = text !== base
  const finished = task.lifecycleStatus === 'Finished'

  useEffect(() => {
    // the stored value moved (another user, the API): follow it unless the user is editing
    if (!dirty) {
      setText(stored)
      setBase(stored)
    }
  }, [stored])

  const save = async () => {
    const parsed = parseAttachments(text)
    if ('error' in parsed) return
    setBusy(true)
    setError(undefined)
    try {
      const r = await call(api.PUT('/api/tasks/{task_id}/attachments', { params: { path: { task_id: task.id } }, body: { attachments: parsed.value } }))
      const saved = pretty(r.data.attachments)
      setText(saved)
      setBase(saved)
      toast('ok', task.lifecycleStatus === 'Running' ? 'Attachments saved; the running worker takes them now' : 'Attachments saved')
      onSaved()
    } catch (e) {
      setError(toApiError(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="card" aria-labelledby={`att-${task.id}`}>
      <div className="card-head">
        <h2 id={`att-${task.id}`}>Attachments</h2>
        {dirty && <span className="badge badge-paused">edited</span>}
      </div>
      <JsonEditor
        label="Attachments (JSON object)"
        value={text}
        onChange={setText}
        serverError={error}
        rows={8}
        hint={task.lifecycleStatus === 'Running' ? 'Saving sends them to the running worker, which applies them live.' : 'Used by the next run.'}
      />
      {error && !error.details.some((d) => d.field.startsWith('attachments')) && error.code !== 'E_ATTACHMENTS_INVALID' && (
        <p className="field-error" role="alert">
          {error.message} <code>{error.code}</code>
        </p>
      )}
      <div className="row end">
        <button type="button" className="btn" disabled={!dirty || busy} onClick={() => {
          setText(base)
          setError(undefined)
        }}>
          Revert
        </button>
        <button type="button" className="btn btn-primary" disabled={!dirty || busy || finished || 'error' in parseAttachments(text)} onClick={() => void save()}>
          {busy ? 'Saving…' : 'Save attachments'}
        </button>
      </div>
    </section>
  )
}
