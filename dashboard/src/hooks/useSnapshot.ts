import { useSyncExternalStore } from 'react'
import { getSnapshot, subscribeSnapshot, type Snapshot } from '../live/sampler.ts'

/** The sampler's latest counts and history; re-renders on every sample. */
export function useSnapshot(): Snapshot {
  return useSyncExternalStore(subscribeSnapshot, getSnapshot)
}
