// The shell: a skip link, the header (navigation, live-connection state, theme, token), the page, the toasts. On
// navigation the page's title changes and focus moves to the main region, so screen readers hear the new page.
import { useEffect, useRef } from 'react'
import { ConnectionIndicator } from './components/ConnectionIndicator.tsx'
import { Link } from './components/Link.tsx'
import { ThemeToggle } from './components/ThemeToggle.tsx'
import { Toasts } from './components/Toasts.tsx'
import { TokenButton } from './components/TokenDialog.tsx'
import { Cache } from './pages/Cache.tsx'
import { Overview } from './pages/Overview.tsx'
import { Skalds } from './pages/Skalds.tsx'
import { TaskDetail } from './pages/TaskDetail.tsx'
import { Tasks } from './pages/Tasks.tsx'
import { useRoute, type Route } from './router.ts'

const NAV = [
  { to: '', label: 'Overview', pages: ['overview'] },
  { to: 'tasks', label: 'Tasks', pages: ['tasks', 'task'] },
  { to: 'skalds', label: 'Skalds', pages: ['skalds'] },
  { to: 'cache', label: 'Cache', pages: ['cache'] },
] as const

function titleOf(route: Route): string {
  switch (route.page) {
    case 'task':
      return `Task ${route.id}`
    case 'missing':
      return 'Not found'
    default:
      return NAV.find((n) => (n.pages as readonly string[]).includes(route.page))?.label ?? 'Skalds'
  }
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />
    case 'tasks':
      return <Tasks query={route.query} />
    case 'task':
      return <TaskDetail key={route.id} id={route.id} />
    case 'skalds':
      return <Skalds />
    case 'cache':
      return <Cache />
    case 'missing':
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no page “{route.path}”. <Link to="">Go to the overview</Link>.
          </p>
        </>
      )
  }
}

export function App() {
  const route = useRoute()
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)
  const title = titleOf(route)
  const pageKey = route.page === 'task' ? `task:${route.id}` : route.page
  useEffect(() => {
    document.title = `${title} · Skalds`
    if (first.current) first.current = false
    else main.current?.focus({ preventScroll: false })
  }, [pageKey, title])

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="" className="brand" aria-label="Skalds dashboard, overview">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="var(--c-accent)" />
            <path d="M9 21l7-11 7 11" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <span>Skalds</span>
        </Link>
        <nav aria-label="Main" className="nav">
          {NAV.map((n) => (
            <Link key={n.label} to={n.to} aria-current={(n.pages as readonly string[]).includes(route.page) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="tools">
          <ConnectionIndicator />
          <ThemeToggle />
          <TokenButton />
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
      <Toasts />
    </>
  )
}
