// Creating a task: its class (from the stored tasks' classes and the Skalds' advertised ones), name, priority,
// retries and attachments. The attachments are checked as JSON while typed; the API's 400 details (its schema check
// against the class's published JSON Schema) are shown next to the field they name.
import { useId, useState, type FormEvent } from 'react'
import { api, call, toApiError, type ApiError } from '../api/client.ts'
import type { CreateTaskBody } from '../api/types.ts'
import { useSnapshot } from '../hooks/useSnapshot.ts'
import { sampleNow } from '../live/sampler.ts'
import { ErrorNotice } from './ErrorNotice.tsx'
import { JsonEditor, parseAttachments } from './JsonEditor.tsx'
import { toast } from './Toasts.tsx'

interface Props {
  classNames: readonly string[]
  onCreated: (id: string) => void
  onCancel: () => void
}

function FieldError({ error, field, id }: { error: ApiError | undefined; field: string; id: string }) {
  const issue = error?.details.find((d) => d.field === field)
  if (!issue) return null
  return (
    <p id={id} className="field-error" role="alert">
      {issue.reason}
    </p>
  )
}

export function CreateTask({ classNames, onCreated, onCancel }: Props) {
  const id = useId()
  const snap = useSnapshot()
  const advertised = (snap.skalds ?? []).flatMap((k) => k.supportedTasks)
  const classes = [...new Set([...advertised, ...classNames])].sort()
  const [className, setClassName] = useState('')
  const [name, setName] = useState('')
  const [taskId, setTaskId] = useState('')
  const [priority, setPriority] = useState(0)
  const [retries, setRetries] = useState('')
  const [attachments, setAttachments] = useState('{\n  \n}')
  const [error, setError] = useState<ApiError>()
  const [busy, setBusy] = useState(false)
  const parsed = parseAttachments(attachments)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if ('error' in parsed) return
    setBusy(true)
    setError(undefined)
    const body: CreateTaskBody = {
      className: className.trim(),
      priority,
      // the schema marks the defaulted fields as required: say them (and where the task came from)
      source: 'Dashboard',
      mode: 'Passive',
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(taskId.trim() ? { id: taskId.trim() } : {}),
      ...(retries !== '' ? { maxRetries: Number(retries) } : {}),
      ...(parsed.value ? { attachments: parsed.value } : {}),
    }
    try {
      const task = await call(api.POST('/api/tasks', { body }))
      toast('ok', `Task ${task.name || task.id} created`)
      sampleNow()
      onCreated(task.id)
    } catch (e) {
      setError(toApiError(e))
    } finally {
      setBusy(false)
    }
  }
  const described = (field: string) => (error?.details.some((d) => d.field === field) ? `${id}-${field}-error` : undefined)

  return (
    <form className="card form" aria-labelledby={`${id}-title`} onSubmit={(e) => void submit(e)} noValidate>
      <h2 id={`${id}-title`}>New task</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-class`}>Class (required)</label>
          <input id={`${id}-class`} list={`${id}-classes`} required value={className} onChange={(e) => setClassName(e.target.value)} aria-invalid={described('className') !== undefined} aria-describedby={described('className')} autoComplete="off" />
          <datalist id={`${id}-classes`}>
            {classes.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
          <FieldError error={error} field="className" id={`${id}-className-error`} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-id`}>Id (default: generated)</label>
          <input id={`${id}-id`} value={taskId} onChange={(e) => setTaskId(e.target.value)} aria-invalid={described('id') !== undefined} aria-describedby={described('id')} />
          <FieldError error={error} field="id" id={`${id}-id-error`} />
        </div>
        <div className="field narrow">
          <label htmlFor={`${id}-priority`}>Priority (0–10)</label>
          <input id={`${id}-priority`} type="number" min={0} max={10} value={priority} onChange={(e) => setPriority(Number(e.target.value))} aria-describedby={described('priority')} />
          <FieldError error={error} field="priority" id={`${id}-priority-error`} />
        </div>
        <div className="field narrow">
          <label htmlFor={`${id}-retries`}>Max retries</label>
          <input id={`${id}-retries`} type="number" min={0} max={1000} value={retries} placeholder="class default" onChange={(e) => setRetries(e.target.value)} aria-describedby={described('maxRetries')} />
          <FieldError error={error} field="maxRetries" id={`${id}-maxRetries-error`} />
        </div>
      </div>
      <JsonEditor label="Attachments (JSON object)" value={attachments} onChange={setAttachments} serverError={error} rows={6} hint="Checked against the JSON Schema the class's Skalds published, when they did." />
      <ErrorNotice error={error} what="create the task" />
      <div className="row end">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy || 'error' in parsed || className.trim() === ''}>
          {busy ? 'Creating…' : 'Create task'}
        </button>
      </div>
    </form>
  )
}
