// Reloads a view when live events say what it shows changed: debounced, so a burst of status changes (a bulk
// cancel) costs one reload.
import { useEffect, useRef } from 'react'
import type { LiveEvent } from '../live/events.ts'
import { useLiveEvent } from './useLive.ts'

export function useReloadOn(match: (event: LiveEvent) => boolean, reload: () => unknown, delayMs = 400): void {
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  useLiveEvent((event) => {
    if (!match(event)) return
    clearTimeout(timer.current)
    timer.current = setTimeout(() => void reload(), delayMs)
  })
}
