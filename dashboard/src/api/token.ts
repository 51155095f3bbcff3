// The API token, kept in sessionStorage by default: it grants writes, so it should not outlive the tab unless the
// user asks ("remember on this device" puts it in localStorage instead). Listeners hear every change.
const KEY = 'skalds.apiToken'
type Listener = (token: string | null) => void
const listeners = new Set<Listener>()

function read(storage: Storage): string | null {
  try {
    return storage.getItem(KEY)
  } catch {
    return null // storage disabled (privacy mode): the token lives for this page only
  }
}

let current: string | null = read(sessionStorage) ?? read(localStorage)

export function getToken(): string | null {
  return current
}

/** Whether the token is remembered across browser restarts (localStorage). */
export function isRemembered(): boolean {
  return read(localStorage) !== null
}

export function setToken(token: string | null, remember = false): void {
  current = token && token.trim() !== '' ? token.trim() : null
  try {
    sessionStorage.removeItem(KEY)
    localStorage.removeItem(KEY)
    if (current) (remember ? localStorage : sessionStorage).setItem(KEY, current)
  } catch {
    // storage unavailable: keep it in memory
  }
  for (const listener of listeners) listener(current)
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
