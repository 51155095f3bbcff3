// Whether live updates flow: live, reconnecting (the controller went away; retrying), offline (still retrying).
import { useLiveState } from '../hooks/useLive.ts'

const TEXT = { connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' } as const
const HELP = {
  connecting: 'Opening the live event streams',
  live: 'Live updates from the controller',
  reconnecting: 'The live connection dropped; reconnecting and resuming where it stopped',
  offline: 'The controller does not answer; retrying. Data shown may be stale',
} as const

export function ConnectionIndicator() {
  const state = useLiveState()
  return (
    <span className={`conn conn-${state}`} role="status" aria-live="polite" title={HELP[state]} data-state={state}>
      <i aria-hidden="true" />
      {TEXT[state]}
      <span className="sr-only">: {HELP[state]}</span>
    </span>
  )
}
