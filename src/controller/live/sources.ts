// What feeds the live hub from the Skalds' state: one shared loop for every client (the Python controller polls
// once per connection every 5 s). Each interval it diffs the node monitor's views and the watched tasks' Redis state
// against the previous interval and publishes only what changed. Task reads are issued in one turn (node-redis
// pipelines them: one round trip for all tasks), bounded by `maxTasks`, and skipped while nobody listens to the
// tasks stream. Store-level changes (task_status) are not polled: the composition calls hub.publish for them.
import type { Logger } from '../../config/logger.ts'
import type { TaskLifecycleStatus } from '../../model/enums.ts'
import type { SkaldStateReader, TaskState } from '../../state/reader.ts'
import type { NodeView } from '../node-monitor.ts'
import { LiveOptionsError, type LiveHub } from './hub.ts'

/**
 * What the sources read of a node: NodeView satisfies it. `heartbeat` is the node heartbeat's value (0 when
 * absent); a view without it (NodeView before it carried the value) is diffed on `activityMs` and reports 0.
 */
export type LiveNodeView = Pick<NodeView, 'id' | 'online' | 'taskIds' | 'activityMs'> & { heartbeat?: number }

/** A task to watch: a stored Task satisfies it. */
export interface WatchedTask {
  id: string
  /** the Skald it runs on (for `skald_id` filters); null when unassigned */
  executor: string | null
  lifecycleStatus: TaskLifecycleStatus
}

/** What the sources read and publish to, and how often; every bound with its default. */
export interface LiveSourcesOptions {
  /** where events go */
  hub: LiveHub
  /** the Skalds' state (Redis or in process) */
  reader: SkaldStateReader
  /** the control plane's node views (NodeMonitor.nodes.values()); read each interval, no I/O of its own */
  nodes: () => Iterable<LiveNodeView>
  /** the tasks to watch, e.g. the live ones (Assigning, Running, Paused) from the store; the first `maxTasks` count */
  activeTaskIds: () => Iterable<WatchedTask> | Promise<Iterable<WatchedTask>>
  /** how often to diff, ms; default 1000 */
  intervalMs?: number
  /**
   * most tasks read per interval; default 500. Each watched task costs six reads per interval (heartbeat,
   * has-error, exception, progress, checkpoint, and its log list: up to the node's logMaxLines, default 200 lines),
   * all in one pipelined round trip. Tasks past the bound are not watched (a warning says so once).
   */
  maxTasks?: number
  /** most log lines in one task_log event (the newest are kept); default 200 */
  maxLogLinesPerEvent?: number
  /** failed reads (warn) and tasks past the bound; default none */
  logger?: Logger
  /** the clock for event timestamps, epoch ms; default Date.now */
  now?: () => number
}

/** What one diff did. */
export interface LiveTickReport {
  /** events published this interval */
  published: number
  /** tasks whose state was read */
  tasksRead: number
  /** tasks not watched because of `maxTasks` */
  tasksOverLimit: number
}

/** The diff loop feeding the hub. */
export interface LiveSources {
  /** Diffs at once, then every `intervalMs` after the previous diff ended (never two at a time). */
  start(): void
  /** Stops the loop; resolves when a diff under way has ended. */
  stop(): Promise<void>
  /** One diff now (tests; the loop calls it). Concurrent calls share the diff under way. */
  tick(): Promise<LiveTickReport>
}

interface NodeMemo {
  online: boolean
  beat: number | undefined
}

interface TaskMemo {
  heartbeat: number
  error: string | undefined
  exception: string | undefined
  progress: string | undefined
  log: string[]
}

/**
 * The lines of `next` that `prev` did not have. The log is a bounded list (RPUSH + LTRIM), so `next` is `prev`
 * shifted by the lines trimmed, plus the lines appended: the first suffix of `prev` that is a prefix of `next` is
 * what was already seen. No overlap (the list was replaced, or more lines came than it holds) = all of `next`.
 */
export function newLogLines(prev: readonly string[], next: readonly string[]): string[] {
  for (let shift = 0; shift < prev.length; shift++) {
    const overlap = prev.length - shift
    if (overlap > next.length) continue
    let same = true
    for (let i = 0; i < overlap && same; i++) same = prev[shift + i] === next[i]
    if (same) return next.slice(overlap)
  }
  return [...next]
}

function progressKey(state: TaskState): string | undefined {
  const p = state.progress
  return p ? JSON.stringify([p.value, p.message, p.epoch]) : undefined
}

class Sources implements LiveSources {
  readonly #o: Required<Omit<LiveSourcesOptions, 'logger'>> & { logger: Logger | undefined }
  readonly #nodes = new Map<string, NodeMemo>()
  readonly #tasks = new Map<string, TaskMemo>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<LiveTickReport> | undefined
  #started = false
  #warnedOverLimit = false

  constructor(options: LiveSourcesOptions) {
    const o = { intervalMs: 1000, maxTasks: 500, maxLogLinesPerEvent: 200, now: Date.now, ...options }
    for (const [field, min] of [['intervalMs', 10], ['maxTasks', 0], ['maxLogLinesPerEvent', 1]] as const) {
      const value = o[field]
      if (!Number.isSafeInteger(value) || value < min) throw new LiveOptionsError(field, `must be an integer ≥ ${min}, got ${String(value)}`)
    }
    this.#o = { ...o, logger: options.logger }
  }

  start(): void {
    if (this.#started) return
    this.#started = true
    this.#schedule(0)
  }

  async stop(): Promise<void> {
    this.#started = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => undefined)
  }

  tick(): Promise<LiveTickReport> {
    this.#running ??= this.#tick().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.#o.logger?.warn({ err: error }, 'live events: a diff failed'))
        .finally(() => {
          if (this.#started) this.#schedule(this.#o.intervalMs)
        })
    }, delayMs)
    this.#timer.unref()
  }

  async #tick(): Promise<LiveTickReport> {
    const report: LiveTickReport = { published: this.#diffNodes(), tasksRead: 0, tasksOverLimit: 0 }
    // Nobody listens: no reads. The memos stay, so the first diff after a client arrives sends what changed since.
    if (this.#o.hub.clientCount('tasks') === 0) return report
    const watched: WatchedTask[] = []
    for (const task of await this.#o.activeTaskIds()) {
      if (watched.length < this.#o.maxTasks) watched.push(task)
      else report.tasksOverLimit++
    }
    if (report.tasksOverLimit > 0 && !this.#warnedOverLimit) {
      this.#o.logger?.warn({ maxTasks: this.#o.maxTasks, over: report.tasksOverLimit }, 'live events: more active tasks than maxTasks; the rest are not watched')
    }
    this.#warnedOverLimit = report.tasksOverLimit > 0
    // All reads in this turn: node-redis pipelines them into one round trip.
    const states = await Promise.all(
      watched.map((t) =>
        this.#o.reader.task(t.id).then(
          (state) => ({ state }),
          (error: unknown) => ({ error }),
        ),
      ),
    )
    const keep = new Set<string>()
    let failed: unknown
    watched.forEach((task, i) => {
      keep.add(task.id)
      const read = states[i]!
      if ('error' in read) {
        failed ??= read.error
        return
      }
      report.tasksRead++
      report.published += this.#diffTask(task, read.state)
    })
    if (failed !== undefined) this.#o.logger?.warn({ err: failed }, 'live events: reading a task state failed; it is diffed again next interval')
    for (const id of this.#tasks.keys()) if (!keep.has(id)) this.#tasks.delete(id)
    return report
  }

  #diffNodes(): number {
    const { hub, nodes, now } = this.#o
    const seen = new Set<string>()
    let published = 0
    const timestamp = now()
    for (const node of nodes()) {
      seen.add(node.id)
      const prev = this.#nodes.get(node.id)
      const status = node.online ? 'online' : 'offline'
      const beat = node.heartbeat ?? node.activityMs
      // First sight publishes both, as the Python stream's first tick does.
      if (prev?.online !== node.online) {
        hub.publish('skalds', { type: 'skald_status', skaldId: node.id, data: { status, taskCount: node.taskIds.length }, timestamp })
        published++
      }
      if (!prev || prev.beat !== beat) {
        hub.publish('skalds', { type: 'skald_heartbeat', skaldId: node.id, data: { heartbeat: node.heartbeat ?? 0, status, tasks: [...node.taskIds] }, timestamp })
        published++
      }
      this.#nodes.set(node.id, { online: node.online, beat })
    }
    for (const id of this.#nodes.keys()) {
      if (seen.has(id)) continue
      // Gone from the monitor (its registration expired): offline with no task, as Python says it.
      this.#nodes.delete(id)
      hub.publish('skalds', { type: 'skald_status', skaldId: id, data: { status: 'offline', taskCount: 0 }, timestamp })
      published++
    }
    return published
  }

  #diffTask(task: WatchedTask, state: TaskState): number {
    const { hub, now, maxLogLinesPerEvent } = this.#o
    const prev = this.#tasks.get(task.id)
    const taskId = task.id
    const { lifecycleStatus, executor } = task
    const timestamp = now()
    const next: TaskMemo = { heartbeat: state.heartbeat, error: state.hasError, exception: state.exception, progress: progressKey(state), log: state.log }
    let published = 0
    if (prev?.heartbeat !== next.heartbeat) {
      hub.publish('tasks', { type: 'task_heartbeat', taskId, data: { heartbeat: next.heartbeat, lifecycleStatus }, timestamp }, executor)
      published++
    }
    // Python: an error or exception is sent when it changes to a non-empty value (an empty one clears it silently).
    if (next.error && next.error !== prev?.error) {
      hub.publish('tasks', { type: 'task_error', taskId, data: { error: next.error, lifecycleStatus }, timestamp }, executor)
      published++
    }
    if (next.exception && next.exception !== prev?.exception) {
      hub.publish('tasks', { type: 'task_exception', taskId, data: { exception: next.exception, lifecycleStatus }, timestamp }, executor)
      published++
    }
    if (state.progress && next.progress !== prev?.progress) {
      hub.publish('tasks', { type: 'task_progress', taskId, data: { value: state.progress.value, message: state.progress.message }, timestamp }, executor)
      published++
    }
    const lines = newLogLines(prev?.log ?? [], next.log)
    if (lines.length > 0) {
      hub.publish('tasks', { type: 'task_log', taskId, data: { lines: lines.slice(-maxLogLinesPerEvent) }, timestamp }, executor)
      published++
    }
    this.#tasks.set(taskId, next)
    return published
  }
}

/** The loop that turns state changes into live events; call `start()`, and `stop()` before closing the reader. */
export function createLiveSources(options: LiveSourcesOptions): LiveSources {
  return new Sources(options)
}
