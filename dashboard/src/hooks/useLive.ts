// React bindings of the live streams: the connection state, and a listener for events.
import { useEffect, useRef, useSyncExternalStore } from 'react'
import type { LiveEvent, LiveState, StreamName } from '../live/events.ts'
import { liveState, onLiveEvent, onLiveState } from '../live/live.ts'

// an external store read at render: a change between the first render and a subscribing effect is not missed
export function useLiveState(): LiveState {
  return useSyncExternalStore(onLiveState, liveState)
}

/** Calls `handler` for each live event; the latest handler is used without resubscribing. */
export function useLiveEvent(handler: (event: LiveEvent, stream: StreamName) => void): void {
  const ref = useRef(handler)
  ref.current = handler
  useEffect(() => onLiveEvent((event, stream) => ref.current(event, stream)), [])
}
