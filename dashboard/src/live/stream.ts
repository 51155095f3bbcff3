// One live-event stream (EventSource) that survives a controller restart. EventSource retries by itself after a
// dropped connection, but gives up for good on an HTTP error (a controller shutting down answers 503), so this
// reopens it with a backoff, resuming from the last event id (`?lastEventId=`: a new EventSource has no
// Last-Event-ID of its own). After any gap, `onGap` tells the app to refetch what it may have missed; a `resync`
// frame (the controller could not replay) does the same.
import { isLiveEvent, type LiveEvent, type LiveState, type StreamName } from './events.ts'

export interface StreamHandlers {
  onEvent(event: LiveEvent): void
  onState(state: LiveState): void
  /** events may have been missed: reload from the REST API */
  onGap(reason: 'reconnected' | 'resync'): void
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000]
/** failed attempts after which the stream counts as offline (it keeps trying) */
const OFFLINE_AFTER = 3

export class LiveStream {
  readonly #name: StreamName
  readonly #handlers: StreamHandlers
  #source: EventSource | undefined
  #lastId: string | undefined
  #failures = 0
  #hadConnection = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #token: string | null = null
  #closed = false

  constructor(name: StreamName, handlers: StreamHandlers) {
    this.#name = name
    this.#handlers = handlers
  }

  /** (Re)opens with `token` (sent as `?access_token=`: EventSource cannot send headers). */
  open(token: string | null): void {
    this.#token = token
    this.#closed = false
    this.#connect()
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#source?.close()
    this.#source = undefined
  }

  #url(): string {
    const url = new URL(`/api/events/${this.#name}`, window.location.origin)
    if (this.#token) url.searchParams.set('access_token', this.#token)
    if (this.#lastId) url.searchParams.set('lastEventId', this.#lastId)
    return url.toString()
  }

  #connect(): void {
    clearTimeout(this.#timer)
    this.#source?.close()
    this.#handlers.onState(this.#hadConnection ? (this.#failures >= OFFLINE_AFTER ? 'offline' : 'reconnecting') : 'connecting')
    const source = new EventSource(this.#url())
    this.#source = source
    source.onopen = () => {
      const wasGap = this.#hadConnection && this.#failures > 0
      this.#failures = 0
      this.#hadConnection = true
      this.#handlers.onState('live')
      if (wasGap) this.#handlers.onGap('reconnected')
    }
    source.onmessage = (message: MessageEvent<string>) => {
      if (message.lastEventId) this.#lastId = message.lastEventId
      let parsed: unknown
      try {
        parsed = JSON.parse(message.data)
      } catch {
        return // not an event (the server sends only JSON; ignore anything else)
      }
      if (!isLiveEvent(parsed)) return
      if (parsed.type === 'resync') this.#handlers.onGap('resync')
      else if (parsed.type !== 'connection') this.#handlers.onEvent(parsed)
    }
    source.onerror = () => {
      if (this.#closed || source !== this.#source) return
      this.#failures++
      this.#handlers.onState(this.#failures >= OFFLINE_AFTER ? 'offline' : 'reconnecting')
      // Left CONNECTING, the browser retries on its own; CLOSED (an HTTP error), it never will: reopen ourselves.
      if (source.readyState === EventSource.CLOSED) {
        const delay = BACKOFF_MS[Math.min(this.#failures - 1, BACKOFF_MS.length - 1)] ?? 8000
        this.#timer = setTimeout(() => this.#connect(), delay)
      }
    }
  }
}
