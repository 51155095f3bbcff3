// The controller's live events (docs/live-events.md) as the dashboard reads them.
export interface LiveEvent {
  type: string
  taskId?: string
  skaldId?: string
  data?: Record<string, unknown>
  timestamp?: number
}

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline'
export type StreamName = 'skalds' | 'tasks'

export function isLiveEvent(value: unknown): value is LiveEvent {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
}
