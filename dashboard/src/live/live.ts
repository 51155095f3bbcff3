// The app's two live streams (Skalds and tasks, unfiltered: pages pick what they need), their combined state for
// the connection indicator, and a "refresh" signal after any gap. Opened once; reopened when the token changes.
import { getToken, onTokenChange } from '../api/token.ts'
import type { LiveEvent, LiveState, StreamName } from './events.ts'
import { LiveStream } from './stream.ts'

type EventListener = (event: LiveEvent, stream: StreamName) => void
const eventListeners = new Set<EventListener>()
const stateListeners = new Set<(state: LiveState) => void>()
const refreshListeners = new Set<(reason: string) => void>()
const states: Record<StreamName, LiveState> = { skalds: 'connecting', tasks: 'connecting' }
let lastEventAt = 0

/** The worse of the two streams' states. */
export function liveState(): LiveState {
  const order: LiveState[] = ['offline', 'reconnecting', 'connecting', 'live']
  return order.find((s) => states.skalds === s || states.tasks === s) ?? 'connecting'
}

export function lastLiveEventAt(): number {
  return lastEventAt
}

function streamOf(name: StreamName): LiveStream {
  return new LiveStream(name, {
    onEvent(event) {
      lastEventAt = Date.now()
      for (const listener of eventListeners) listener(event, name)
    },
    onState(state) {
      states[name] = state
      const combined = liveState()
      for (const listener of stateListeners) listener(combined)
    },
    onGap(reason) {
      for (const listener of refreshListeners) listener(`${name}: ${reason}`)
    },
  })
}

let streams: LiveStream[] | undefined

/** how long a hidden tab keeps its streams */
const HIDDEN_CLOSE_MS = 30_000
let hiddenTimer: ReturnType<typeof setTimeout> | undefined
let suspended = false

// Browsers allow 6 HTTP/1.1 connections per host, shared by every tab: a few tabs' streams would leave no
// connection for the API calls. A tab hidden for a while closes its streams, and reopens them (then refetches,
// as after any gap) when shown again.
function onVisibility(): void {
  clearTimeout(hiddenTimer)
  if (document.visibilityState === 'hidden') {
    hiddenTimer = setTimeout(() => {
      suspended = true
      for (const s of streams ?? []) s.close()
    }, HIDDEN_CLOSE_MS)
  } else if (suspended) {
    suspended = false
    for (const s of streams ?? []) s.open(getToken())
    for (const listener of refreshListeners) listener('tab shown again')
  }
}

export function startLive(): void {
  if (streams) return
  streams = [streamOf('skalds'), streamOf('tasks')]
  for (const s of streams) s.open(getToken())
  document.addEventListener('visibilitychange', onVisibility)
  onTokenChange((token) => {
    for (const s of streams ?? []) s.open(token)
    // every view loads again with the new token
    for (const listener of refreshListeners) listener('token changed')
  })
}

export function onLiveEvent(listener: EventListener): () => void {
  eventListeners.add(listener)
  return () => eventListeners.delete(listener)
}

export function onLiveState(listener: (state: LiveState) => void): () => void {
  stateListeners.add(listener)
  return () => stateListeners.delete(listener)
}

/** After a reconnection or a resync: whatever the page shows may be stale. */
export function onRefresh(listener: (reason: string) => void): () => void {
  refreshListeners.add(listener)
  return () => refreshListeners.delete(listener)
}
