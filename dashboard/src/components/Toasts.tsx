// Results of actions (paused, cancelled, failed with the API's message), announced politely to screen readers and
// shown for a few seconds.
import { useEffect, useState } from 'react'

export interface Toast {
  id: number
  kind: 'ok' | 'error'
  text: string
}

const listeners = new Set<(toasts: Toast[]) => void>()
let toasts: Toast[] = []
let nextId = 1

export function toast(kind: Toast['kind'], text: string): void {
  const item = { id: nextId++, kind, text }
  toasts = [...toasts.slice(-4), item]
  for (const listener of listeners) listener(toasts)
  setTimeout(() => dismiss(item.id), kind === 'error' ? 9000 : 4000)
}

function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id)
  for (const listener of listeners) listener(toasts)
}

export function Toasts() {
  const [items, setItems] = useState<Toast[]>(toasts)
  useEffect(() => {
    listeners.add(setItems)
    return () => void listeners.delete(setItems)
  }, [])
  return (
    <div className="toasts" role="status" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" className="btn-icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
