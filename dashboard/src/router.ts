// A tiny router over the URL's path (history.pushState), so every view has a real, shareable URL
// (/dashboard/tasks/t-42) that the controller's SPA fallback answers. Five routes do not need a routing library
// (none is installed): a parse function, a navigate function and a hook.
import { useSyncExternalStore } from 'react'

export const BASE = '/dashboard'

export type Route =
  | { page: 'overview' }
  | { page: 'skalds' }
  | { page: 'tasks'; query: URLSearchParams }
  | { page: 'task'; id: string }
  | { page: 'cache' }
  | { page: 'missing'; path: string }

export function parseRoute(pathname: string, search: string): Route {
  // the app is served at / and at /dashboard/...: both lead to the same routes
  const path = (pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname).replace(/^\/+|\/+$/g, '')
  if (path === '') return { page: 'overview' }
  if (path === 'skalds') return { page: 'skalds' }
  if (path === 'tasks') return { page: 'tasks', query: new URLSearchParams(search) }
  if (path === 'cache') return { page: 'cache' }
  const task = /^tasks\/(.+)$/.exec(path)
  if (task?.[1]) return { page: 'task', id: decodeURIComponent(task[1]) }
  return { page: 'missing', path }
}

/** The URL of an app path such as `tasks/t-1` or `tasks?status=Running`. */
export function href(path: string): string {
  return `${BASE}/${path.replace(/^\//, '')}`
}

const listeners = new Set<() => void>()
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener()
})

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const url = href(path)
  if (url === window.location.pathname + window.location.search) return
  if (options.replace) window.history.replaceState(null, '', url)
  else window.history.pushState(null, '', url)
  for (const listener of listeners) listener()
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

const location = (): string => window.location.pathname + window.location.search

/** The current route; re-renders on navigation. */
export function useRoute(): Route {
  const current = useSyncExternalStore(subscribe, location)
  const [pathname, search = ''] = current.split('?')
  return parseRoute(pathname ?? '/', search)
}
