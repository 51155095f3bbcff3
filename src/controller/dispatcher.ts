// The Dispatcher (wire §6.5, fixed): Created Passive tasks, higher priority first then older, go to online
// node-mode Skalds that have the class and free capacity (per node and per class), by the configured strategy.
// Each assignment is one compare-and-set on the task's epoch (store.claim: executor, Assigning, epoch + 1), so two
// dispatchers (a paused ex-leader and the new one) can never both assign one task; the stale terminal heartbeat and
// exception of an earlier run are cleared before `task.assign` is published. A sweep runs when kicked (a task
// created, resumed, retried or handed back; a node appeared) and periodically as a safety net.
import type { EventBus } from '../bus/types.ts'
import type { DispatchStrategy } from '../config/env.ts'
import type { Logger } from '../config/logger.ts'
import { createTaskEvent, toWireTaskEvent } from '../model/events.ts'
import { taskExceptionKey, taskHasErrorKey, taskHeartbeatKey } from '../model/keys.ts'
import type { Task } from '../model/task.ts'
import { Topic } from '../model/topics.ts'
import type { SkaldStateBackend } from '../state/backend.ts'
import { TaskConflictError, TaskNotFoundError } from '../store/errors.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { ControlEvent } from './control-events.ts'
import type { NodeMonitor, NodeView } from './node-monitor.ts'
import { type Candidate, createPicker, type Picker } from './strategies.ts'

export interface DispatcherOptions {
  store: TaskStore
  bus: EventBus
  nodes: NodeMonitor
  /** where heartbeats live: a stale terminal code of an earlier run is cleared at each assignment */
  state: SkaldStateBackend | undefined
  /** default `LEAST_TASKS` */
  strategy?: DispatchStrategy
  /** asked before every assignment: this controller leads (and, in a fenced write, still does) */
  canAct: () => boolean
  /** tasks read per sweep, highest priority first; default 500 */
  batchSize?: number
  now?: () => number
  logger: Logger
  onEvent: (event: ControlEvent) => void
}

export interface SweepReport {
  dispatched: Array<{ taskId: string; executor: string; epoch: number }>
  /** waiting on dependencies, backoff (`notBefore`), or a node with the class and room */
  waiting: number
  /** failed by the sweep: deadline passed, a dependency failed for good */
  failed: string[]
  /** the earliest `notBefore` still ahead, to sweep again then */
  nextAt: number | undefined
}

/** Longest an assignment counts against a node that does not list it (its task.assign in flight), ms. */
const IN_FLIGHT_MS = 5000

const EMPTY: SweepReport = { dispatched: [], waiting: 0, failed: [], nextAt: undefined }

export class Dispatcher {
  readonly #o: DispatcherOptions & { now: () => number; batchSize: number }
  readonly #picker: Picker
  #sweeping: Promise<SweepReport> | undefined
  #again = false
  /**
   * Assignments a node has not shown yet (not in its task list): node → task id → class and when. Counted against
   * its capacity, so the sweeps between its load writes do not give it more than it has room for. An entry goes when
   * the node lists the task, or after IN_FLIGHT_MS (it refused or lost it: its load says the truth again).
   */
  readonly #inFlight = new Map<string, Map<string, { className: string; at: number }>>()

  constructor(options: DispatcherOptions) {
    this.#o = { now: Date.now, batchSize: 500, ...options }
    this.#picker = createPicker(options.strategy ?? 'LEAST_TASKS')
  }

  /** Sweeps now, or once more right after the sweep in flight (kicks never overlap or pile up). */
  sweep(): Promise<SweepReport> {
    if (this.#sweeping) {
      this.#again = true
      return this.#sweeping
    }
    const run = async (): Promise<SweepReport> => {
      try {
        let report = await this.#sweep()
        while (this.#again) {
          this.#again = false
          report = await this.#sweep()
        }
        return report
      } finally {
        this.#sweeping = undefined
      }
    }
    this.#sweeping = run()
    return this.#sweeping
  }

  async #sweep(): Promise<SweepReport> {
    const { store, nodes, now, canAct } = this.#o
    if (!canAct()) return EMPTY
    const candidates = new Map<string, Slot>()
    for (const node of nodes.dispatchable()) {
      const perClass = new Map<string, number>()
      const pending = this.#pending(node, now(), perClass)
      candidates.set(node.id, { node, running: (node.load?.running ?? node.taskIds.length) + pending, perClass })
    }
    // Read no more Created tasks than there is room for (with a margin for tasks that wait or fit no node), page by
    // page up to batchSize: a sweep behind a full fleet reads a few rows, not a page of 500 (each one parsed). A
    // sweep kicked by one freed slot reads 2 rows: behind a backlog, each run that ends frees one slot and kicks one
    // sweep, so the first page's size is what every short task costs the controller in rows parsed (it was 32, then
    // 8). When a page leaves room (its tasks wait or fit no node), the next one is twice as large.
    let room = 0
    for (const c of candidates.values()) room += c.node.load?.capacity == null ? Infinity : Math.max(0, c.node.load.capacity - c.running)
    let pageSize = Number.isFinite(room) ? Math.min(this.#o.batchSize, Math.max(2, room * 2)) : this.#o.batchSize
    const report: SweepReport = { dispatched: [], waiting: 0, failed: [], nextAt: undefined }
    let scanned = 0
    let exhausted = false
    while (scanned < this.#o.batchSize) {
      const limit = Math.min(pageSize, this.#o.batchSize - scanned)
      // listItems: the page without list's count over the whole Created backlog, which every sweep would pay.
      const items = await store.listItems({
        lifecycleStatus: 'Created',
        mode: 'Passive',
        sort: [{ field: 'priority', direction: 'desc' }, { field: 'createDateTime', direction: 'asc' }],
        // the rows this sweep judged and left Created come first: skip them (the placed and failed are gone)
        offset: scanned - report.dispatched.length - report.failed.length,
        limit,
      })
      scanned += items.length
      await this.#place(items, candidates, report)
      exhausted = items.length < limit
      const roomLeft = [...candidates.values()].some((c) => c.node.load?.capacity == null || c.running < c.node.load.capacity)
      if (exhausted || !roomLeft || !canAct()) break
      pageSize *= 2
    }
    if (scanned === 0) return EMPTY
    // It read all it may and placed some: more may wait behind, sweep again rather than at the next kick.
    if (!exhausted && scanned >= this.#o.batchSize && report.dispatched.length > 0) this.#again = true
    return report
  }

  /** Judges Created tasks in order: fail them (deadline, dependency), let them wait, or assign them to a node. */
  async #place(tasks: readonly Task[], candidates: ReadonlyMap<string, Slot>, report: SweepReport): Promise<void> {
    const { now, canAct } = this.#o
    const deps = await this.#dependencies(tasks)
    const claims: Array<Promise<ClaimResult>> = []
    for (const task of tasks) {
      if (!canAct()) break
      const at = now()
      if (task.runtime.notBefore !== null && task.runtime.notBefore > at) {
        report.waiting++
        report.nextAt = Math.min(report.nextAt ?? Infinity, task.runtime.notBefore)
        continue
      }
      if (task.deadlineDateTime > 0 && task.deadlineDateTime <= at) {
        if (await this.#fail(task, 'E_CONTROLLER_DEADLINE', `deadlineDateTime ${new Date(task.deadlineDateTime).toISOString()} passed before the task could start`)) report.failed.push(task.id)
        continue
      }
      const blocked = dependencyState(task, deps)
      if (blocked.kind === 'failed') {
        if (await this.#fail(task, 'E_CONTROLLER_DEPENDENCY', blocked.reason)) report.failed.push(task.id)
        continue
      }
      if (blocked.kind === 'waiting') {
        report.waiting++
        continue
      }
      const eligible = [...candidates.values()].filter((c) => hasRoom(c, task.className))
      if (eligible.length === 0) {
        report.waiting++
        continue
      }
      // An executor chosen by whoever created it (Python's example scripts do) is kept when that node can take it.
      const chosen = eligible.find((c) => c.node.id === task.executor) ?? this.#picker.pick(eligible)
      // The slot is taken now and the claim sent without waiting: the page's claims go to the store together (one
      // commit on SQLite); a claim that loses gives its slot back below.
      this.#take(chosen, task, +1)
      claims.push(this.#claim(task, chosen))
    }
    const claimed: Claimed[] = []
    let failure: unknown
    for (const claim of await Promise.all(claims)) {
      // A store failure on one claim does not keep the page's won claims from being announced; it is thrown after.
      failure ??= claim.error
      if (claim.epoch === undefined) {
        this.#take(claim.slot, claim.task, -1)
        continue
      }
      claimed.push({ task: claim.task, node: claim.slot.node, epoch: claim.epoch })
      report.dispatched.push({ taskId: claim.task.id, executor: claim.slot.node.id, epoch: claim.epoch })
    }
    await this.#announce(claimed)
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error('a claim failed', { cause: failure })
  }

  /** Counts (+1) or uncounts (-1) `task` against the slot's room and as in flight to its node. */
  #take(slot: Slot, task: Task, delta: 1 | -1): void {
    slot.running += delta
    slot.perClass.set(task.className, (slot.perClass.get(task.className) ?? 0) + delta)
    let inFlight = this.#inFlight.get(slot.node.id)
    if (delta > 0) {
      if (!inFlight) this.#inFlight.set(slot.node.id, (inFlight = new Map<string, { className: string; at: number }>()))
      inFlight.set(task.id, { className: task.className, at: this.#o.now() })
    } else if (inFlight?.delete(task.id) && inFlight.size === 0) this.#inFlight.delete(slot.node.id)
  }

  /** These runs ended or moved on (a node announced it, or the store says so): they no longer count as in flight. */
  settle(taskIds: Iterable<string>): void {
    for (const taskId of taskIds) {
      for (const [nodeId, inFlight] of this.#inFlight) {
        if (inFlight.delete(taskId) && inFlight.size === 0) this.#inFlight.delete(nodeId)
      }
    }
  }

  /** How many assignments to `node` it does not show yet (per class into `perClass`); forgets the settled ones. */
  #pending(node: NodeView, at: number, perClass: Map<string, number>): number {
    const inFlight = this.#inFlight.get(node.id)
    if (!inFlight) return 0
    const listed = new Set(node.taskIds)
    for (const [taskId, entry] of inFlight) {
      if (listed.has(taskId) || at - entry.at > IN_FLIGHT_MS) inFlight.delete(taskId)
      else perClass.set(entry.className, (perClass.get(entry.className) ?? 0) + 1)
    }
    if (inFlight.size === 0) this.#inFlight.delete(node.id)
    return inFlight.size
  }

  /**
   * The claim: a compare-and-set on the epoch read (executor, Assigning, epoch + 1). Never rejects: epoch undefined
   * when it lost (or failed: then with the store's error).
   */
  async #claim(task: Task, slot: Slot): Promise<ClaimResult> {
    try {
      const claimed = await this.#o.store.claim(task.id, { executor: slot.node.id, expectEpoch: task.runtime.epoch, expectStatus: 'Created', runtime: { notBefore: null, pausedAt: null } })
      return { task, slot, epoch: claimed.runtime.epoch }
    } catch (error) {
      if (error instanceof TaskConflictError || error instanceof TaskNotFoundError) return { task, slot, epoch: undefined }
      return { task, slot, epoch: undefined, error }
    }
  }

  /**
   * For a page's claims at once: the stale heartbeat, exception and has-error keys of every claimed task deleted in
   * one round trip, then every `task.assign` published side by side (the deletes first, so a node's first heartbeat
   * is never deleted after the run started).
   */
  async #announce(claims: readonly Claimed[]): Promise<void> {
    if (claims.length === 0) return
    const { bus, state, logger, onEvent } = this.#o
    await state?.apply(claims.flatMap(({ task }) => [
      { op: 'del' as const, key: taskHeartbeatKey(task.id) },
      { op: 'del' as const, key: taskExceptionKey(task.id) },
      { op: 'del' as const, key: taskHasErrorKey(task.id) },
    ]))
    await Promise.all(
      claims.map(async ({ task, node, epoch }) => {
        await bus.publish(Topic.TaskAssign, task.id, toWireTaskEvent(createTaskEvent(task.id)))
        logger.info({ taskId: task.id, executor: node.id, epoch, className: task.className }, 'task dispatched')
        // How long it waited to be dispatched: since it last became dispatchable (created, resumed, retried, handed back).
        onEvent({ type: 'task-dispatched', taskId: task.id, executor: node.id, epoch, className: task.className, waitedMs: Math.max(0, Date.now() - task.updateDateTime) })
      }),
    )
  }

  async #fail(task: Task, code: string, message: string): Promise<boolean> {
    const error = `${code}: ${message}`
    try {
      await this.#o.store.update(task.id, { lifecycleStatus: 'Failed', runtime: { lastError: error } }, { expect: { epoch: task.runtime.epoch, lifecycleStatus: 'Created' } })
    } catch (e) {
      if (e instanceof TaskConflictError || e instanceof TaskNotFoundError) return false
      throw e
    }
    this.#o.logger.warn({ taskId: task.id, code }, message)
    this.#o.onEvent({ type: 'task-failed', taskId: task.id, className: task.className, executor: task.executor, attempt: task.runtime.attempt, epoch: task.runtime.epoch, error })
    return true
  }

  /** The statuses of every dependency of the page, in one read. */
  async #dependencies(tasks: readonly Task[]): Promise<Map<string, Task>> {
    const ids = [...new Set(tasks.flatMap((t) => t.dependencies ?? []))]
    if (ids.length === 0) return new Map()
    return new Map((await this.#o.store.getMany(ids)).map((t) => [t.id, t]))
  }
}

/** A task this sweep claimed for a node, to announce. */
interface Claimed {
  task: Task
  node: NodeView
  epoch: number
}

interface ClaimResult {
  task: Task
  slot: Slot
  /** the new epoch; undefined when the claim lost or failed */
  epoch: number | undefined
  /** why it failed (not a lost compare-and-set) */
  error?: unknown
}

/** A node as one sweep sees it: running = advertised + assigned and not listed yet; perClass likewise. */
type Slot = Candidate & { perClass: Map<string, number> }

function hasRoom(c: Slot, className: string): boolean {
  if (!c.node.classNames.includes(className)) return false
  const capacity = c.node.load?.capacity ?? null
  if (capacity !== null && c.running >= capacity) return false
  const cls = c.node.load?.classes[className]
  if (cls?.capacity != null && cls.running + (c.perClass.get(className) ?? 0) >= cls.capacity) return false
  return true
}

export type DependencyState = { kind: 'ready' } | { kind: 'waiting' } | { kind: 'failed'; reason: string }

/** Ready when every dependency is Finished; failed when one is Failed or Cancelled (for good) or does not exist. */
export function dependencyState(task: Task, deps: ReadonlyMap<string, Task>): DependencyState {
  let waiting = false
  for (const id of task.dependencies ?? []) {
    const dep = deps.get(id)
    if (!dep) return { kind: 'failed', reason: `dependency ${JSON.stringify(id)} does not exist` }
    if (dep.lifecycleStatus === 'Failed' || dep.lifecycleStatus === 'Cancelled') return { kind: 'failed', reason: `dependency ${JSON.stringify(id)} is ${dep.lifecycleStatus}` }
    if (dep.lifecycleStatus !== 'Finished') waiting = true
  }
  return waiting ? { kind: 'waiting' } : { kind: 'ready' }
}
