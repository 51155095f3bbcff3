// The fan-out of the controller's live events: one hub, two streams (`skalds`, `tasks`). `publish` is synchronous
// and touches only the clients whose filter can match (an index by task id and by Skald id beside the unfiltered
// set); it never waits for a socket. Each client writes straight to its connection until the connection pushes back,
// then queues in memory up to a bound in events and in bytes; past the bound the client is dropped (its connection
// destroyed) so one slow reader never holds memory for the others or slows the publisher. Event ids are
// `<bootId>-<seq>`: a random id per hub, so an id from another controller or an earlier boot is told apart from a
// lost one, and a replay ring per stream serves clients that resume with Last-Event-ID.
import { randomBytes } from 'node:crypto'
import type { Logger } from '../../config/logger.ts'
import { SkaldsError } from '../../model/errors.ts'
import type { LiveFilter, LiveStream, SkaldLiveEvent, TaskLiveEvent } from './events.ts'
import { ReplayRing, type ReplayEntry } from './replay.ts'

/** Where a client's frames go: a Node ServerResponse (or socket) satisfies it. */
export interface LiveSink {
  /** Writes a chunk; false when the connection buffers more than its high-water mark (then wait for `drain`). */
  write(chunk: string): boolean
  once(event: 'drain', listener: () => void): unknown
  /** Ends the response after what is buffered (server shutdown). */
  end(): unknown
  /** Closes the connection at once, dropping what is buffered (a client too slow). */
  destroy(): unknown
}

/** The hub's bounds; every field optional, with its default and unit. */
export interface LiveHubOptions {
  /** events kept per stream for clients that resume; default 1000. 0 = none (every resume gets a resync frame) */
  replayMaxEvents?: number
  /** how long an event stays replayable, ms; default 300000 (5 minutes) */
  replayMaxAgeMs?: number
  /** bytes of frames kept per stream for replay; default 8388608 (8 MiB): large task_log events evict sooner */
  replayMaxBytes?: number
  /**
   * per client: most frames queued while its connection pushes back; default 1000. One more and the client is
   * dropped. Frames the connection accepted (its buffer, up to Node's 16 KiB high-water mark) are not counted.
   */
  clientMaxQueuedEvents?: number
  /** per client: most bytes queued while its connection pushes back; default 1048576 (1 MiB); past it, dropped */
  clientMaxQueuedBytes?: number
  /** the clock, epoch ms; default Date.now */
  now?: () => number
  /** where dropped clients are reported (warn); default none */
  logger?: Logger
}

/** An option of the hub or of its sources that cannot work, named with its field. */
export class LiveOptionsError extends SkaldsError {
  constructor(field: string, reason: string) {
    super('E_LIVE_OPTIONS_INVALID', `${field}: ${reason}`)
  }
}

/** The hub's counters, for `/api/events/status` and metrics. */
export interface LiveHubStats {
  /** connected clients per stream */
  clients: Record<LiveStream, number>
  /** clients dropped because they fell behind past the queue bound, since the hub started */
  droppedClients: number
  /** events published, both streams */
  eventsPublished: number
  /** events sent again to resuming clients */
  eventsReplayed: number
  /** resuming clients told to reload (foreign or expired id) */
  resyncs: number
  /** events held for replay per stream */
  replayEvents: Record<LiveStream, number>
  /** bytes of the frames held for replay per stream */
  replayBytes: Record<LiveStream, number>
  /** the id of the newest event (`<bootId>-0` before the first) */
  lastEventId: string
}

/** How a connection started: new, resumed from the ring, or told to reload because its id was foreign or expired. */
export type LiveResume = 'fresh' | 'replayed' | 'resync-foreign' | 'resync-expired'

/** A client to attach: its stream, filter, connection and where it resumes from. */
export interface LiveConnectOptions {
  stream: LiveStream
  /** which events of the stream it receives; default all */
  filter?: LiveFilter
  /** its connection (the raw ServerResponse) */
  sink: LiveSink
  /** the client's Last-Event-ID; null or empty = a new client */
  lastEventId?: string | null
  /** the first frame's payload (the route's `connection` message) */
  greeting?: Readonly<Record<string, unknown>>
}

/** A client attached to the hub. */
export interface LiveConnection {
  readonly stream: LiveStream
  readonly filter: Readonly<LiveFilter>
  /** how it started: new, resumed, or told to resync */
  readonly resume: LiveResume
  /** events replayed to it on connect */
  readonly replayed: number
  /** detached: its connection closed, it was dropped, or ended */
  readonly closed: boolean
  /** Writes an SSE comment line (keep-alive); skipped while the connection pushes back (data is pending anyway). */
  comment(text: string): void
  /** Detaches it from the hub: its connection closed. */
  detach(): void
  /** Detaches it and ends its response (server shutdown). */
  end(): void
}

const DEFAULTS = { replayMaxEvents: 1000, replayMaxAgeMs: 300_000, replayMaxBytes: 8_388_608, clientMaxQueuedEvents: 1000, clientMaxQueuedBytes: 1_048_576 }

function checkCount(field: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new LiveOptionsError(field, `must be an integer ≥ ${min}, got ${String(value)}`)
  return value
}

interface Index {
  all: Set<Client>
  bySkald: Map<string, Set<Client>>
  byTask: Map<string, Set<Client>>
}

class Client implements LiveConnection {
  readonly stream: LiveStream
  readonly filter: Readonly<LiveFilter>
  resume: LiveResume = 'fresh'
  replayed = 0
  closed = false
  readonly #sink: LiveSink
  readonly #onRemove: (client: Client) => void
  #queue: string[] = []
  #queuedBytes = 0
  #waiting = false

  constructor(stream: LiveStream, filter: LiveFilter, sink: LiveSink, onRemove: (client: Client) => void) {
    this.stream = stream
    this.filter = filter
    this.#sink = sink
    this.#onRemove = onRemove
  }

  matches(entry: ReplayEntry): boolean {
    return (this.filter.skaldId === undefined || this.filter.skaldId === entry.skaldId) && (this.filter.taskId === undefined || this.filter.taskId === entry.taskId)
  }

  /** The greeting and the replay: one write, bounded by the ring rather than by the queue. */
  start(chunk: string): void {
    this.#write(chunk)
  }

  /** Queues or writes one frame; when that would put the client past its bound, drops it and says what it held. */
  send(frame: string, bytes: number, maxEvents: number, maxBytes: number): { events: number; bytes: number } | undefined {
    if (this.closed) return undefined
    if (!this.#waiting) {
      this.#write(frame)
      return undefined
    }
    if (this.#queue.length + 1 > maxEvents || this.#queuedBytes + bytes > maxBytes) {
      const held = { events: this.#queue.length, bytes: this.#queuedBytes }
      this.#remove()
      this.#sink.destroy()
      return held
    }
    this.#queue.push(frame)
    this.#queuedBytes += bytes
    return undefined
  }

  comment(text: string): void {
    if (!this.closed && !this.#waiting) this.#write(`:${text.replaceAll(/[\r\n]/g, ' ')}\n\n`)
  }

  detach(): void {
    this.#remove()
  }

  end(): void {
    if (this.closed) return
    this.#remove()
    this.#sink.end()
  }

  #write(chunk: string): void {
    if (this.#sink.write(chunk)) return
    this.#waiting = true
    this.#sink.once('drain', this.#flush)
  }

  // One write for everything queued: fewer syscalls for a client catching up.
  readonly #flush = (): void => {
    this.#waiting = false
    if (this.closed || this.#queue.length === 0) return
    const chunk = this.#queue.join('')
    this.#queue = []
    this.#queuedBytes = 0
    this.#write(chunk)
  }

  #remove(): void {
    if (this.closed) return
    this.closed = true
    this.#queue = []
    this.#queuedBytes = 0
    this.#onRemove(this)
  }
}

/** The live-event hub: publish events, attach clients (see the file's head comment and docs/live-events.md). */
export class LiveHub {
  /** random per hub: ids carrying another one come from another controller or an earlier boot */
  readonly bootId = randomBytes(6).toString('hex')
  readonly #now: () => number
  readonly #logger: Logger | undefined
  readonly #queueEvents: number
  readonly #queueBytes: number
  readonly #rings: Record<LiveStream, ReplayRing>
  readonly #index: Record<LiveStream, Index> = { skalds: newIndex(), tasks: newIndex() }
  readonly #counts: Record<LiveStream, number> = { skalds: 0, tasks: 0 }
  #seq = 0
  #dropped = 0
  #replayed = 0
  #resyncs = 0

  constructor(options: LiveHubOptions = {}) {
    const o = { ...DEFAULTS, ...options }
    const maxEvents = checkCount('replayMaxEvents', o.replayMaxEvents, 0)
    const maxAge = checkCount('replayMaxAgeMs', o.replayMaxAgeMs, 1)
    const maxReplayBytes = checkCount('replayMaxBytes', o.replayMaxBytes, 0)
    this.#queueEvents = checkCount('clientMaxQueuedEvents', o.clientMaxQueuedEvents, 1)
    this.#queueBytes = checkCount('clientMaxQueuedBytes', o.clientMaxQueuedBytes, 1024)
    this.#rings = { skalds: new ReplayRing(maxEvents, maxAge, maxReplayBytes), tasks: new ReplayRing(maxEvents, maxAge, maxReplayBytes) }
    this.#now = o.now ?? Date.now
    this.#logger = o.logger
  }

  /**
   * Sends an event to every matching client of its stream and keeps it for replay; returns its id. `executor` is
   * the task's Skald, for clients filtering the tasks stream by `skald_id` (it is not part of the payload).
   */
  publish(stream: 'skalds', event: SkaldLiveEvent): string
  /** A task event; `executor` is the task's Skald, matched by `skald_id` filters. */
  publish(stream: 'tasks', event: TaskLiveEvent, executor?: string | null): string
  publish(stream: LiveStream, event: SkaldLiveEvent | TaskLiveEvent, executor?: string | null): string {
    let skaldId: string | null
    let taskId: string | null = null
    if (stream === 'skalds' && 'skaldId' in event) skaldId = event.skaldId
    else if (stream === 'tasks' && 'taskId' in event) {
      taskId = event.taskId
      skaldId = executor ?? null
    } else throw new LiveOptionsError('stream', `a ${event.type} event does not belong on the ${String(stream)} stream`)
    const seq = ++this.#seq
    const frame = `id: ${this.bootId}-${seq}\ndata: ${JSON.stringify(event)}\n\n`
    const entry: ReplayEntry = { seq, at: this.#now(), frame, bytes: Buffer.byteLength(frame), skaldId, taskId }
    this.#rings[stream].push(entry)
    const index = this.#index[stream]
    this.#deliver(index.all, entry)
    if (taskId !== null) this.#deliver(index.byTask.get(taskId), entry)
    if (skaldId !== null) this.#deliver(index.bySkald.get(skaldId), entry)
    return `${this.bootId}-${seq}`
  }

  /**
   * Attaches a client: writes the greeting, then (resuming) the events after its Last-Event-ID or a resync frame,
   * then every matching event from now on. All in this turn, so no event falls between replay and live.
   */
  connect(options: LiveConnectOptions): LiveConnection {
    const { stream, sink } = options
    const filter: LiveFilter = {}
    if (options.filter?.skaldId !== undefined) filter.skaldId = options.filter.skaldId
    if (stream === 'tasks' && options.filter?.taskId !== undefined) filter.taskId = options.filter.taskId
    const client = new Client(stream, filter, sink, (c) => this.#unindex(c))
    const current = `${this.bootId}-${this.#seq}`
    const greeting = options.greeting ? JSON.stringify(options.greeting) : undefined
    let chunk = ''
    const lastEventId = options.lastEventId ?? ''
    if (lastEventId === '') {
      // A new client's greeting carries the current id: reconnecting before any event, it still resumes from here.
      if (greeting) chunk = `id: ${current}\ndata: ${greeting}\n\n`
    } else {
      if (greeting) chunk = `data: ${greeting}\n\n`
      const found = this.#after(stream, lastEventId)
      if (typeof found === 'string') {
        client.resume = found === 'foreign' ? 'resync-foreign' : 'resync-expired'
        this.#resyncs++
        const message = found === 'foreign' ? 'the event id is not from this controller run: reload the state' : 'events after this id are no longer kept: reload the state'
        // Carries the current id, so a client that reloads and then reconnects resumes from here.
        chunk += `id: ${current}\ndata: ${JSON.stringify({ type: 'resync', reason: found, message })}\n\n`
      } else {
        const entries = found.filter((e) => client.matches(e))
        client.resume = 'replayed'
        client.replayed = entries.length
        this.#replayed += entries.length
        for (const e of entries) chunk += e.frame
      }
    }
    if (chunk !== '') client.start(chunk)
    this.#indexAdd(client)
    return client
  }

  /** Connected clients of a stream (or of both). */
  clientCount(stream?: LiveStream): number {
    return stream ? this.#counts[stream] : this.#counts.skalds + this.#counts.tasks
  }

  /** The counters now (the replay rings' age bound is applied first). */
  stats(): LiveHubStats {
    const now = this.#now()
    this.#rings.skalds.expire(now)
    this.#rings.tasks.expire(now)
    return {
      clients: { ...this.#counts },
      droppedClients: this.#dropped,
      eventsPublished: this.#seq,
      eventsReplayed: this.#replayed,
      resyncs: this.#resyncs,
      replayEvents: { skalds: this.#rings.skalds.size, tasks: this.#rings.tasks.size },
      replayBytes: { skalds: this.#rings.skalds.bytes, tasks: this.#rings.tasks.bytes },
      lastEventId: `${this.bootId}-${this.#seq}`,
    }
  }

  /** The ring's events after `lastEventId`, or why they cannot be known. */
  #after(stream: LiveStream, lastEventId: string): ReplayEntry[] | 'foreign' | 'expired' {
    const dash = lastEventId.lastIndexOf('-')
    const seqText = lastEventId.slice(dash + 1)
    if (dash < 0 || lastEventId.slice(0, dash) !== this.bootId || !/^\d{1,15}$/.test(seqText)) return 'foreign'
    const seq = Number(seqText)
    if (seq > this.#seq) return 'foreign' // this run never gave that id
    const ring = this.#rings[stream]
    ring.expire(this.#now())
    // An event of this stream newer than the client's id was evicted: it may have missed it.
    if (seq < ring.evictedSeq) return 'expired'
    return ring.after(seq)
  }

  #deliver(clients: Set<Client> | undefined, entry: ReplayEntry): void {
    if (!clients) return
    for (const client of clients) {
      if (!client.matches(entry)) continue
      const dropped = client.send(entry.frame, entry.bytes, this.#queueEvents, this.#queueBytes)
      if (dropped) {
        this.#dropped++
        this.#logger?.warn({ stream: client.stream, filter: client.filter, queuedEvents: dropped.events, queuedBytes: dropped.bytes }, 'live events: client dropped, it fell behind past its queue bound')
      }
    }
  }

  // A client sits in exactly one bucket (task id first, then Skald id, else all), so no event reaches it twice.
  #bucket(client: Client, create: boolean): Set<Client> | undefined {
    const index = this.#index[client.stream]
    const { taskId, skaldId } = client.filter
    const [map, key] = taskId !== undefined ? [index.byTask, taskId] : skaldId !== undefined ? [index.bySkald, skaldId] : [undefined, '']
    if (!map) return index.all
    let set = map.get(key)
    if (!set && create) map.set(key, (set = new Set()))
    return set
  }

  #indexAdd(client: Client): void {
    this.#bucket(client, true)!.add(client)
    this.#counts[client.stream]++
  }

  #unindex(client: Client): void {
    const set = this.#bucket(client, false)
    if (!set?.delete(client)) return
    this.#counts[client.stream]--
    if (set.size === 0 && set !== this.#index[client.stream].all) {
      const index = this.#index[client.stream]
      if (client.filter.taskId !== undefined) index.byTask.delete(client.filter.taskId)
      else if (client.filter.skaldId !== undefined) index.bySkald.delete(client.filter.skaldId)
    }
  }
}

function newIndex(): Index {
  return { all: new Set(), bySkald: new Map(), byTask: new Map() }
}
