// The API token: asked for when a call answers 401, or from the header's button. Kept for this tab
// (sessionStorage) unless "remember" is ticked (localStorage).
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { onUnauthorized } from '../api/client.ts'
import { getToken, isRemembered, onTokenChange, setToken } from '../api/token.ts'

export function TokenButton() {
  const dialog = useRef<HTMLDialogElement>(null)
  const [hasToken, setHasToken] = useState(getToken() !== null)
  const [reason, setReason] = useState<string>()
  const id = useId()

  useEffect(() => onTokenChange((t) => setHasToken(t !== null)), [])
  useEffect(
    () =>
      onUnauthorized(() => {
        setReason(getToken() ? 'The controller refused the token. Enter the right one.' : 'The controller needs its API token for this.')
        if (dialog.current && !dialog.current.open) dialog.current.showModal()
      }),
    [],
  )

  const open = () => {
    setReason(undefined)
    dialog.current?.showModal()
  }
  const save = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const token = form.get('token')
    setToken(typeof token === 'string' ? token : null, form.get('remember') === 'on')
    dialog.current?.close()
  }
  return (
    <>
      <button type="button" className="btn btn-ghost" onClick={open} aria-haspopup="dialog">
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
          <rect x="3" y="7" width="10" height="7" rx="1.5" />
          <path d={hasToken ? 'M5.5 7V5a2.5 2.5 0 0 1 5 0v2' : 'M5.5 7V5a2.5 2.5 0 0 1 4.9-.7'} />
        </svg>
        <span className="hide-narrow"> {hasToken ? 'Token set' : 'API token'}</span>
        <span className="sr-only">{hasToken ? ' (set)' : ' (not set)'}</span>
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby={`${id}-title`}>
        <form method="dialog" onSubmit={save}>
          <h2 id={`${id}-title`}>API token</h2>
          {reason && (
            <p className="notice notice-error" role="alert">
              {reason}
            </p>
          )}
          <p className="muted">
            Sent as <code>Authorization: Bearer …</code> on every call (and as <code>access_token</code> on the live streams). It is the controller's{' '}
            <code>SKALDS_API_TOKEN</code>.
          </p>
          <label htmlFor={`${id}-token`}>Token</label>
          <input id={`${id}-token`} name="token" type="password" autoComplete="off" defaultValue={getToken() ?? ''} minLength={16} placeholder="at least 16 characters" />
          <label className="check">
            <input type="checkbox" name="remember" defaultChecked={isRemembered()} /> Remember on this device (otherwise forgotten when the tab closes)
          </label>
          <div className="row end">
            <button
              type="button"
              className="btn"
              onClick={() => {
                setToken(null)
                dialog.current?.close()
              }}
            >
              Forget token
            </button>
            <button type="button" className="btn" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary">
              Save
            </button>
          </div>
        </form>
      </dialog>
    </>
  )
}
