// A failed call, as the API told it: its message, code and status, and each field it named.
import type { ApiError } from '../api/client.ts'

export function ErrorNotice({ error, what, onRetry }: { error: ApiError | undefined; what?: string; onRetry?: () => void }) {
  if (!error) return null
  return (
    <div className="notice notice-error" role="alert">
      <p>
        <strong>{what ? `Could not ${what}: ` : ''}</strong>
        {error.message}{' '}
        <code className="code">
          {error.code}
          {error.status ? ` · ${error.status}` : ''}
        </code>
      </p>
      {error.details.length > 0 && (
        <ul>
          {error.details.map((d) => (
            <li key={d.field + d.reason}>
              <code>{d.field}</code>: {d.reason}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}
