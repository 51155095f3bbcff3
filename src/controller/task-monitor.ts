// The TaskMonitor (wire §6.4, fixed): every Assigning or Running task is sampled each cycle (its heartbeat and
// error keys, all tasks in one batch) and judged the way both node kinds can be read: ours write their statuses
// themselves and change the heartbeat on every write; Python's never write a status and write random values, so
// their runs are judged by the heartbeat alone. Each write is a compare-and-set on what was read (status, epoch,
// executor), so a monitor never overwrites a newer decision. It also fails over the runs of nodes gone offline.
import type { Logger } from '../config/logger.ts'
import type { Task, TaskPatch } from '../model/task.ts'
import type { SkaldStateReader, TaskBeat } from '../state/reader.ts'
import { TaskConflictError, TaskNotFoundError } from '../store/errors.ts'
import type { TaskStore } from '../store/task-store.ts'
import { MAX_LIST_LIMIT } from '../store/task-store.ts'
import type { ControlEvent } from './control-events.ts'
import type { NodeMonitor } from './node-monitor.ts'

export interface ControllerRetryPolicy {
  /** retries after the first run when the task does not say (`runtime.maxRetries`); default 0 */
  maxRetries: number
  /** per class, over `maxRetries` */
  perClass: Readonly<Record<string, number>>
  /** wait before the first retry, ms; default 1000 */
  initialMs: number
  /** growth per further retry; default 2 */
  factor: number
  /** cap, ms; default 60000 */
  maxMs: number
}

export interface TaskMonitorOptions {
  store: TaskStore
  reader: SkaldStateReader
  nodes: NodeMonitor
  retry: ControllerRetryPolicy
  /** a Running task whose heartbeat has not changed for this long is stalled, ms; default 15000 (3 periods + TTL) */
  stallAfterMs?: number
  /** an Assigning task that shows no heartbeat for this long goes back to be dispatched again, ms; default 30000 */
  assignTimeoutMs?: number
  /** REDIS_KEY_TTL: the TTL terminal codes are written with, to tell an earlier run's code by its age; default 3600000 */
  keyTtlMs?: number
  /** asked before every write: this controller leads */
  canAct: () => boolean
  now?: () => number
  logger: Logger
  onEvent: (event: ControlEvent) => void
}

/** What this monitor knows of one run (a task under one epoch). */
interface Track {
  epoch: number
  firstSeenAt: number
  /** `updateDateTime` when first seen Assigning: the assignment's time (a terminal code written before is stale) */
  assignedAt: number | undefined
  attemptAtAssign: number
  last: number | undefined
  lastChangeAt: number
  /** a running (non-terminal) heartbeat was seen for this run */
  sawRunning: boolean
}

const TERMINAL: Readonly<Record<number, 'Finished' | 'Failed' | 'Cancelled'>> = { 200: 'Finished', [-1]: 'Failed', [-2]: 'Cancelled' }

export class TaskMonitor {
  readonly #o: TaskMonitorOptions & { stallAfterMs: number; assignTimeoutMs: number; keyTtlMs: number; now: () => number }
  readonly #tracks = new Map<string, Track>()
  readonly #startedAt: number

  constructor(options: TaskMonitorOptions) {
    this.#o = { stallAfterMs: 15_000, assignTimeoutMs: 30_000, keyTtlMs: 3_600_000, now: Date.now, ...options }
    this.#startedAt = this.#o.now()
  }

  /** One cycle over every Assigning / Running task; resolves with the ids whose stored status it changed. */
  async cycle(): Promise<string[]> {
    const { store, reader, canAct, now } = this.#o
    if (!canAct()) return []
    const page = await store.list({ lifecycleStatus: ['Assigning', 'Running'], limit: MAX_LIST_LIMIT })
    const beats = await Promise.all(page.items.map((t) => reader.beat(t.id)))
    const at = now()
    const seen = new Set<string>()
    const changed: string[] = []
    for (const [i, task] of page.items.entries()) {
      seen.add(task.id)
      if (!canAct()) break
      if (await this.#judge(task, beats[i]!, at)) changed.push(task.id)
    }
    for (const id of this.#tracks.keys()) if (!seen.has(id)) this.#tracks.delete(id)
    return changed
  }

  async #judge(task: Task, beat: TaskBeat, at: number): Promise<boolean> {
    const track = this.#track(task, at)
    const offline = this.#executorGone(task, at)
    if (offline) return this.#failover(task, offline)
    const value = beat.heartbeatPresent ? beat.heartbeat : undefined
    if (value !== track.last) {
      track.last = value
      track.lastChangeAt = at
    }
    const terminal = value === undefined ? undefined : TERMINAL[value]
    if (terminal && !this.#stale(beat, track, at)) {
      if (terminal === 'Failed') return this.#failed(task, track, `E_TASK_FAILED: ${beat.exception || beat.hasError || `node ${task.executor} reported the run failed (heartbeat -1)`}`)
      return this.#set(task, { lifecycleStatus: terminal, runtime: terminal === 'Finished' ? { lastError: null, checkpoint: null } : {} }, 'heartbeat')
    }
    if (value !== undefined && !terminal) track.sawRunning = true
    if (task.lifecycleStatus === 'Assigning') {
      if (track.sawRunning && at - track.lastChangeAt < this.#o.stallAfterMs) return this.#set(task, { lifecycleStatus: 'Running' }, 'heartbeat')
      if (!track.sawRunning && at - track.firstSeenAt > this.#o.assignTimeoutMs) {
        return this.#requeue(task, `E_CONTROLLER_ASSIGN_TIMEOUT: node ${task.executor} did not start it within ${this.#o.assignTimeoutMs} ms`)
      }
      return false
    }
    if (at - track.lastChangeAt > this.#o.stallAfterMs && at - track.firstSeenAt > this.#o.stallAfterMs) {
      return this.#failed(task, track, `E_CONTROLLER_STALLED: no heartbeat change from node ${task.executor} for ${Math.round((at - track.lastChangeAt) / 1000)} s`)
    }
    return false
  }

  #track(task: Task, at: number): Track {
    let track = this.#tracks.get(task.id)
    if (!track || track.epoch !== task.runtime.epoch) {
      track = {
        epoch: task.runtime.epoch,
        firstSeenAt: at,
        assignedAt: task.lifecycleStatus === 'Assigning' ? task.updateDateTime : undefined,
        attemptAtAssign: task.runtime.attempt,
        last: undefined,
        lastChangeAt: at,
        sawRunning: false,
      }
      this.#tracks.set(task.id, track)
    }
    return track
  }

  /** A terminal code written before this run's assignment (its TTL says when) belongs to an earlier run. */
  #stale(beat: TaskBeat, track: Track, at: number): boolean {
    if (track.sawRunning || track.assignedAt === undefined || typeof beat.heartbeatTtlMs !== 'number') return false
    const writtenAt = at - (this.#o.keyTtlMs - beat.heartbeatTtlMs)
    return writtenAt < track.assignedAt - 1000
  }

  /** The node running it went offline (or was never seen, once this monitor has watched long enough). */
  #executorGone(task: Task, at: number): string | undefined {
    if (!task.executor) return undefined
    const node = this.#o.nodes.nodes.get(task.executor)
    if (node) return node.online ? undefined : task.executor
    // An executor no registration names: a node that died before this controller started, or a [SP] process.
    if (task.mode === 'PassiveProcess' || at - this.#startedAt < 2 * this.#o.stallAfterMs) return undefined
    return task.executor
  }

  /** Persistent Passive tasks go back to be dispatched again at once; the others fail with the reason. */
  async #failover(task: Task, node: string): Promise<boolean> {
    const reason = `E_CONTROLLER_NODE_OFFLINE: node ${node} went offline while the task was ${task.lifecycleStatus}`
    const requeue = task.isPersistent && task.mode === 'Passive'
    const patch: TaskPatch = requeue ? { lifecycleStatus: 'Created', executor: null, runtime: { lastError: reason, notBefore: null } } : { lifecycleStatus: 'Failed', runtime: { lastError: reason } }
    if (!(await this.#write(task, patch))) return false
    this.#o.logger.warn({ taskId: task.id, node, requeued: requeue }, reason)
    this.#o.onEvent({ type: 'task-failover', taskId: task.id, from: node, epoch: task.runtime.epoch, requeued: requeue })
    if (!requeue) this.#o.onEvent({ type: 'task-failed', taskId: task.id, className: task.className, executor: node, attempt: task.runtime.attempt, epoch: task.runtime.epoch, error: reason })
    return true
  }

  /** A failed or stalled run: dispatched again after a backoff while attempts are left, else Failed for good. */
  async #failed(task: Task, track: Track, error: string): Promise<boolean> {
    const { retry, now } = this.#o
    // Python nodes never count attempts: a run this monitor saw assigned counts as one.
    const attempt = Math.max(task.runtime.attempt, track.attemptAtAssign + 1)
    const maxRetries = task.runtime.maxRetries ?? retry.perClass[task.className] ?? retry.maxRetries
    if (task.mode === 'Passive' && attempt <= maxRetries) {
      const delayMs = Math.min(retry.maxMs, retry.initialMs * retry.factor ** (attempt - 1))
      const ok = await this.#write(task, { lifecycleStatus: 'Created', executor: null, runtime: { attempt, lastError: error, notBefore: now() + delayMs } })
      if (ok) this.#o.onEvent({ type: 'task-retrying', taskId: task.id, attempt, delayMs, error })
      return ok
    }
    const ok = await this.#set(task, { lifecycleStatus: 'Failed', runtime: { attempt, lastError: error } }, error)
    if (ok) this.#o.onEvent({ type: 'task-failed', taskId: task.id, className: task.className, executor: task.executor, attempt, epoch: task.runtime.epoch, error })
    return ok
  }

  async #requeue(task: Task, error: string): Promise<boolean> {
    const delayMs = this.#o.retry.initialMs
    const ok = await this.#write(task, { lifecycleStatus: 'Created', executor: null, runtime: { lastError: error, notBefore: this.#o.now() + delayMs } })
    if (ok) this.#o.onEvent({ type: 'task-retrying', taskId: task.id, attempt: task.runtime.attempt, delayMs, error })
    return ok
  }

  async #set(task: Task, patch: TaskPatch, reason: string): Promise<boolean> {
    if (!(await this.#write(task, patch))) return false
    this.#o.onEvent({ type: 'task-status', taskId: task.id, executor: task.executor, from: task.lifecycleStatus, to: patch.lifecycleStatus ?? task.lifecycleStatus, reason })
    return true
  }

  /** Compare-and-set on what was read: a node or another writer that moved the task on wins. */
  async #write(task: Task, patch: TaskPatch): Promise<boolean> {
    try {
      await this.#o.store.update(task.id, patch, { expect: { epoch: task.runtime.epoch, lifecycleStatus: task.lifecycleStatus, executor: task.executor } })
      this.#tracks.delete(task.id)
      return true
    } catch (error) {
      if (error instanceof TaskConflictError || error instanceof TaskNotFoundError) return false
      throw error
    }
  }
}
