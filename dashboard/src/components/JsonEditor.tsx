// Attachments as JSON: a text area checked as you type (the syntax error with its line and column), and the API's
// 400 details for `attachments.*` shown under it, so a refused value says which field and why.
import { useId } from 'react'
import type { ApiError } from '../api/client.ts'

/** The parsed object, or the reason it is not one. */
export function parseAttachments(text: string): { value: Record<string, unknown> | null } | { error: string } {
  if (text.trim() === '') return { value: null }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'must be a JSON object, like {"key": "value"}' }
    return { value: value as Record<string, unknown> }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const at = /position (\d+)/.exec(message)
    if (at?.[1]) {
      const before = text.slice(0, Number(at[1]))
      const line = before.split('\n').length
      const column = Number(at[1]) - before.lastIndexOf('\n')
      return { error: `${message.replace(/ in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '')} (line ${line}, column ${column})` }
    }
    return { error: message }
  }
}

/** The API's details that concern the attachments (or the whole body when none names a field inside). */
export function attachmentIssues(error: ApiError | undefined): { field: string; reason: string }[] {
  if (!error) return []
  const own = error.details.filter((d) => d.field === 'attachments' || d.field.startsWith('attachments.'))
  if (own.length > 0) return own
  return error.code === 'E_ATTACHMENTS_INVALID' ? [{ field: 'attachments', reason: error.message }] : []
}

interface Props {
  label: string
  value: string
  onChange: (text: string) => void
  serverError?: ApiError | undefined
  rows?: number
  hint?: string
}

export function JsonEditor({ label, value, onChange, serverError, rows = 8, hint }: Props) {
  const id = useId()
  const parsed = parseAttachments(value)
  const syntax = 'error' in parsed ? parsed.error : undefined
  const issues = attachmentIssues(serverError)
  const invalid = syntax !== undefined || issues.length > 0
  const describedBy = [hint ? `${id}-hint` : '', invalid ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className="mono"
        value={value}
        rows={rows}
        spellCheck={false}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value)}
      />
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {invalid && (
        <div id={`${id}-error`} className="field-error" role="alert">
          {syntax && <p>JSON: {syntax}</p>}
          {issues.map((i) => (
            <p key={i.field + i.reason}>
              <code>{i.field}</code>: {i.reason}
            </p>
          ))}
        </div>
      )}
    </div>
  )
}
