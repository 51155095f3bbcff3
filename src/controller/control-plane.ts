// The part of the System Controller that decides: the node monitor, the task monitor and the dispatcher on their
// intervals, kicked at once when something happens (a node appears, a task is created, resumed, retried or handed
// back), acting only while this controller leads. Modes as Skalds defines them (wire §6.1): CONTROLLER runs all
// three, MONITOR the monitors, DISPATCHER the node monitor and the dispatcher.
import type { EventBus, Subscription } from '../bus/types.ts'
import type { ControllerMode, DispatchStrategy } from '../config/env.ts'
import type { Logger } from '../config/logger.ts'
import { taskEventSchema, type TaskEvent } from '../model/events.ts'
import { TsTopic } from '../model/topics.ts'
import type { SkaldStateBackend } from '../state/backend.ts'
import { createSkaldStateReader } from '../state/reader.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { ControlEvent } from './control-events.ts'
import type { AlertInput, Alerts } from './alerts.ts'
import { Dispatcher, type SweepReport } from './dispatcher.ts'
import { NodeMonitor } from './node-monitor.ts'
import { type ControllerRetryPolicy, TaskMonitor } from './task-monitor.ts'

/** Who may act: a single controller always may; several share a lease (src/controller/leadership.ts). */
export interface LeaderCheck {
  /** synchronous and cheap: asked before every write */
  readonly isLeader: boolean
}

export interface ControlPlaneOptions {
  store: TaskStore
  /** the Event Queue: `task.assign` goes out on it, `task.requeued` comes in; none = nothing is dispatched */
  bus: EventBus | undefined
  /** where the Skalds' registrations and heartbeats are (Redis, or in process); none = no monitoring */
  state: SkaldStateBackend | undefined
  /** default `CONTROLLER` */
  mode?: ControllerMode
  /** default `LEAST_TASKS` */
  strategy?: DispatchStrategy
  retry?: Partial<ControllerRetryPolicy>
  /** node monitor period, ms (`MONITOR_SKALD_INTERVAL`); default 5000 */
  nodeIntervalMs?: number
  /** task monitor period, ms (`MONITOR_TASK_INTERVAL`, at least the 3 s heartbeat period); default 3000 */
  taskIntervalMs?: number
  /** the dispatcher's safety-net sweep, ms (`DISPATCHER_INTERVAL`); default 5000 */
  dispatchIntervalMs?: number
  /** stall and assignment timeouts, ms (defaults 15000 and 30000); see TaskMonitor */
  stallAfterMs?: number
  assignTimeoutMs?: number
  /** a node is offline when its heartbeat key is gone and its activity has not changed for this long, ms; default 3000 (NodeMonitor) */
  offlineAfterMs?: number
  /** REDIS_KEY_TTL, ms; default 3600000 */
  keyTtlMs?: number
  /** default: always the leader (one controller) */
  leadership?: LeaderCheck
  /** where task.failed, node.offline and task.failover alerts go (createAlerts: webhooks and a log line); default none */
  alerts?: Pick<Alerts, 'emit'>
  logger: Logger
  onEvent?: (event: ControlEvent) => void
}

export const DEFAULT_CONTROLLER_RETRY: ControllerRetryPolicy = { maxRetries: 0, perClass: {}, initialMs: 1000, factor: 2, maxMs: 60_000 }

export class ControlPlane {
  readonly mode: ControllerMode
  readonly nodes: NodeMonitor | undefined
  readonly #o: ControlPlaneOptions
  readonly #tasks: TaskMonitor | undefined
  readonly #dispatcher: Dispatcher | undefined
  readonly #timers: NodeJS.Timeout[] = []
  #wake: { immediate?: NodeJS.Immediate; timer?: NodeJS.Timeout } | undefined
  #wakeAt = Infinity
  #subs: Subscription[] = []
  #stopped = false

  constructor(options: ControlPlaneOptions) {
    this.#o = options
    this.mode = options.mode ?? 'CONTROLLER'
    const canAct = (): boolean => !this.#stopped && (options.leadership?.isLeader ?? true)
    const onEvent = (event: ControlEvent): void => this.#emit(event)
    const logger = options.logger
    if (options.state) {
      const reader = createSkaldStateReader(options.state)
      this.nodes = new NodeMonitor({ reader, logger, ...(options.offlineAfterMs !== undefined ? { offlineAfterMs: options.offlineAfterMs } : {}) })
      if (this.mode !== 'DISPATCHER') {
        this.#tasks = new TaskMonitor({
          store: options.store,
          reader,
          nodes: this.nodes,
          retry: { ...DEFAULT_CONTROLLER_RETRY, ...options.retry },
          canAct,
          logger,
          onEvent,
          ...(options.stallAfterMs !== undefined ? { stallAfterMs: options.stallAfterMs } : {}),
          ...(options.assignTimeoutMs !== undefined ? { assignTimeoutMs: options.assignTimeoutMs } : {}),
          ...(options.keyTtlMs !== undefined ? { keyTtlMs: options.keyTtlMs } : {}),
        })
      }
      if (this.mode !== 'MONITOR' && options.bus) {
        this.#dispatcher = new Dispatcher({ store: options.store, bus: options.bus, nodes: this.nodes, state: options.state, canAct, logger, onEvent, ...(options.strategy ? { strategy: options.strategy } : {}) })
      }
    }
  }

  /** Starts the loops and, with a bus, listens for tasks handed back by draining nodes. */
  async start(): Promise<void> {
    const o = this.#o
    if (this.#dispatcher && o.bus) {
      // One group for all controllers: one of them hears each event, and only the leader acts on it anyway.
      this.#subs.push(await o.bus.subscribe<TaskEvent>(TsTopic.TaskRequeued, 'skalds-controller', () => this.kick(), { schema: taskEventSchema }))
      // A node's run ended and its load says so: re-read that node and use the freed slot now. (With several
      // controllers one of them hears it; the leader's change feed and sweeps cover the others.)
      this.#subs.push(
        await o.bus.subscribe<TaskEvent>(
          TsTopic.TaskEnded,
          'skalds-controller',
          async (event) => {
            this.#dispatcher?.settle(event.payload.taskIds)
            if (!(o.leadership?.isLeader ?? true)) return
            // A failed re-read only means the dispatcher works from the older view: never fail the event for it.
            await this.nodes?.refresh(event.key).catch((error: unknown) => o.logger.debug({ err: error, skaldId: event.key }, 'node re-read failed'))
            this.kick()
          },
          { schema: taskEventSchema },
        ),
      )
    }
    if (this.nodes) this.#every(o.nodeIntervalMs ?? 5000, () => this.#nodeCycle())
    if (this.#tasks) this.#every(o.taskIntervalMs ?? 3000, () => this.#tasks!.cycle())
    if (this.#dispatcher) this.#every(o.dispatchIntervalMs ?? 5000, () => this.#sweep())
    await this.#nodeCycle()
    this.kick()
  }

  /**
   * Tasks the store shows past their assignment (running, ended, handed back): the dispatcher stops counting them as
   * in flight to their node, and sweeps, since a slot may have freed (the change feed calls this).
   */
  settled(taskIds: readonly string[]): void {
    if (!this.#dispatcher || taskIds.length === 0) return
    this.#dispatcher.settle(taskIds)
    this.kick()
  }

  /** Dispatches soon: a task was created, resumed or retried, or a node appeared. Cheap; kicks coalesce. */
  kick(): void {
    this.#schedule(0)
  }

  #schedule(delayMs: number): void {
    const at = Date.now() + delayMs
    if (this.#stopped || at >= this.#wakeAt) return
    this.#wakeAt = at
    this.#cancelWake()
    const wake = (): void => {
      this.#wake = undefined
      this.#wakeAt = Infinity
      void this.#sweep()
    }
    // A kick sweeps on the next turn of the loop (kicks of this turn coalesce); setTimeout(0) waited at least 1 ms,
    // once per short task, on the path from a run's end to the next assignment.
    this.#wake = delayMs <= 0 ? { immediate: setImmediate(wake) } : { timer: setTimeout(wake, delayMs) }
  }

  #cancelWake(): void {
    if (this.#wake?.immediate) clearImmediate(this.#wake.immediate)
    if (this.#wake?.timer) clearTimeout(this.#wake.timer)
    this.#wake = undefined
  }

  /** One full round now (tests, and a new leader catching up): nodes, then tasks, then a sweep. */
  async runOnce(): Promise<SweepReport | undefined> {
    await this.#nodeCycle()
    await this.#tasks?.cycle()
    return this.#dispatcher?.sweep()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const timer of this.#timers) clearInterval(timer)
    this.#cancelWake()
    await Promise.all(this.#subs.map((s) => s.close()))
  }

  async #nodeCycle(): Promise<void> {
    if (!this.nodes) return
    const changes = await this.nodes.cycle()
    for (const change of changes) {
      this.#emit({ type: change.type, skaldId: change.node.id, mode: change.node.mode, taskIds: change.node.taskIds, lastSeenAt: change.node.activityMs ?? null })
    }
    // A node came online: tasks may be waiting for one with their class.
    if (changes.some((c) => c.type === 'node-online' && c.node.mode === 'node')) this.kick()
    // A node went offline: fail its tasks over now rather than at the next task cycle.
    if (changes.some((c) => c.type === 'node-offline') && this.#tasks) await this.#tasks.cycle()
  }

  async #sweep(): Promise<void> {
    if (!this.#dispatcher || this.#stopped) return
    try {
      const report = await this.#dispatcher.sweep()
      // A task waiting for its backoff: sweep again when it ends.
      if (report.nextAt !== undefined) this.#schedule(Math.max(0, report.nextAt - Date.now()))
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'dispatch sweep failed; the next sweep retries')
    }
  }

  #every(ms: number, run: () => Promise<unknown>): void {
    let busy = false
    const timer = setInterval(() => {
      if (busy || this.#stopped) return
      busy = true
      run()
        .catch((error: unknown) => this.#o.logger.warn({ err: error }, 'control loop cycle failed; next cycle retries'))
        .finally(() => (busy = false))
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }

  #emit(event: ControlEvent): void {
    if (event.type === 'task-retrying' || (event.type === 'task-failover' && event.requeued)) this.kick()
    const alert = alertOf(event)
    if (alert) this.#o.alerts?.emit(alert)
    try {
      this.#o.onEvent?.(event)
    } catch (error) {
      this.#o.logger.error({ err: error }, 'onEvent listener threw')
    }
  }
}

/** The events an operator is alerted of: a task failed for good, a node went offline, a task failed over. */
function alertOf(event: ControlEvent): AlertInput | undefined {
  switch (event.type) {
    case 'task-failed':
      return { kind: 'task.failed', taskId: event.taskId, className: event.className, executor: event.executor, attempt: event.attempt, lastError: event.error, epoch: event.epoch }
    case 'node-offline':
      return { kind: 'node.offline', skaldId: event.skaldId, lastSeenAt: event.lastSeenAt, taskIds: event.taskIds }
    case 'task-failover':
      return { kind: 'task.failover', taskId: event.taskId, from: event.from, to: null, epoch: event.epoch }
    default:
      return undefined
  }
}
