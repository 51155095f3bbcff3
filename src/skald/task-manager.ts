// The TaskWorkerManager: consumes task.assign (node mode) / task.cancel / task.update.attachment / task.pause /
// task.resume with the node's own group, runs the tasks the store assigns to this node on worker hosts, and writes
// every status change as a compare-and-set on the task's epoch, so a node whose assignment moved on writes nothing
// (fencing). Edge and single_process Skalds hand their YAML tasks in with admit().
import type { Subscription } from '../bus/types.ts'
import { nodeGroupId } from '../bus/types.ts'
import { createLogger, type Logger } from '../config/logger.ts'
import { createTaskEvent, toWireTaskEvent, type TaskEvent } from '../model/events.ts'
import type { TaskLifecycleStatus } from '../model/enums.ts'
import type { Task, TaskPatch } from '../model/task.ts'
import { Topic } from '../model/topics.ts'
import { TaskConflictError, TaskNotFoundError } from '../store/errors.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { AbortReason } from '../worker/abort-reason.ts'
import { type AnyHostOptions, createWorkerHost } from '../worker/create-host.ts'
import type { Isolation } from '../worker/definition.ts'
import { FreezeUnsupportedError } from '../worker/errors.ts'
import type { TaskOutcome, WorkerEvent, WorkerHost } from '../worker/host.ts'
import { admission } from './admission.ts'
import { type AdmitResult, type LocalTask, newLocalTask, ownedBy, syntheticOutcome } from './local-task.ts'
export type { AdmitResult, WorkerClass } from './local-task.ts'
import { type EndedStatus, type IgnoredReason, type NodeEvent, taskEventSchema, TASK_PAUSE_TOPIC, TASK_REQUEUED_TOPIC, TASK_RESUME_TOPIC } from './node-events.ts'
import { decideOutcome, DEFAULT_RETRY, ManagerCode, TaskManagerError, type OutcomeDecision, type RetryPolicy } from './task-outcome.ts'
import { silentTaskReporter, type TaskReporter } from './task-reporter.ts'

import type { ManagerMode, TaskWorkerManagerOptions } from './manager-options.ts'
export type { ManagerMode, TaskWorkerManagerOptions } from './manager-options.ts'

/**
 * The statuses a run's outcome may be written over: a task Cancelled (or Finished…) through the API meanwhile keeps
 * that status; the node's write loses, as if superseded.
 */
const LIVE_STATUSES: TaskLifecycleStatus[] = ['Created', 'Assigning', 'Running', 'Paused']

export class TaskWorkerManager {
  readonly skaldId: string
  readonly mode: ManagerMode
  readonly maxTasks: number
  readonly #o: TaskWorkerManagerOptions
  readonly #store: TaskStore
  readonly #reporter: TaskReporter
  readonly #retry: RetryPolicy
  readonly #log: Logger
  readonly #hosts = new Map<Isolation, WorkerHost>()
  readonly #tasks = new Map<string, LocalTask>()
  /** ids whose assignment is being loaded: a second assign meanwhile starts nothing */
  readonly #loading = new Set<string>()
  #subs: Subscription[] = []
  #started = false
  #fenceTimer: NodeJS.Timeout | undefined
  #fencing = false
  #draining = false
  #drained: Promise<void> | undefined

  constructor(options: TaskWorkerManagerOptions) {
    if (typeof options.skaldId !== 'string' || options.skaldId === '') throw new TaskManagerError(ManagerCode.Options, 'TaskWorkerManager: skaldId must be a non-empty string')
    this.skaldId = options.skaldId
    this.mode = options.mode ?? 'node'
    this.maxTasks = options.limits?.maxTasks ?? (this.mode === 'node' ? 16 : Infinity)
    if (!(this.maxTasks >= 1)) throw new TaskManagerError(ManagerCode.Options, 'TaskWorkerManager: limits.maxTasks must be ≥ 1')
    this.#o = options
    this.#store = options.store
    this.#reporter = options.reporter ?? silentTaskReporter
    this.#retry = { ...DEFAULT_RETRY, ...options.retry }
    this.#log = (options.logger ?? createLogger('skalds:node')).child({ skaldId: options.skaldId })
  }

  /** Subscribes to the node topics; resolves once events published from now on reach this node. */
  async start(): Promise<void> {
    if (this.#started || this.#draining) throw new TaskManagerError(ManagerCode.Options, 'TaskWorkerManager: start() once, before close()')
    this.#started = true
    const every = this.#o.fenceIntervalMs ?? 3000
    this.#fenceTimer = setInterval(() => void this.#fenceTick(), every)
    this.#fenceTimer.unref()
    const bus = this.#o.bus
    if (!bus) return
    const group = this.#o.group ?? nodeGroupId(this.skaldId)
    const on = (topic: string, handle: (id: string) => Promise<void>): Promise<Subscription> =>
      bus.subscribe<TaskEvent>(topic, group, async (event) => {
        for (const id of event.payload.taskIds) await handle(id)
      }, { schema: taskEventSchema })
    this.#subs = await Promise.all([
      ...(this.mode !== 'single_process' ? [on(Topic.TaskAssign, async (id) => void (await this.#admit(id)))] : []),
      on(Topic.TaskCancel, (id) => Promise.resolve(this.cancel(id))),
      on(TASK_PAUSE_TOPIC, (id) => this.pause(id)),
      on(TASK_RESUME_TOPIC, (id) => this.resume(id)),
      on(Topic.TaskUpdateAttachment, (id) => this.update(id)),
    ])
  }

  /**
   * Runs a task the store already assigns to this node (`executor` = skaldId, under its current epoch), as a
   * `task.assign` would: the way edge and single_process Skalds start their YAML tasks.
   */
  admit(id: string): Promise<AdmitResult> {
    return this.#admit(id)
  }

  /** Whether this node runs `taskId` under `epoch` now (the state publisher's fencing check). */
  owns(taskId: string, epoch: number): boolean {
    const t = this.#tasks.get(taskId)
    return t !== undefined && !t.superseded && t.epoch === epoch
  }

  /** Tasks on this node (running or waiting to retry): what a dispatcher may read as load. */
  get running(): Array<{ taskId: string; className: string; epoch: number; attempt: number }> {
    return [...this.#tasks.values()].map((t) => ({ taskId: t.id, className: t.className, epoch: t.epoch, attempt: t.attempt }))
  }

  /**
   * Stops taking work, lets running tasks finish for `timeoutMs`, then aborts the rest with `shutdown` (persistent
   * tasks go back to Created, unassigned, to be dispatched again) and closes the hosts. Idempotent.
   */
  drain(timeoutMs = this.#o.drainTimeoutMs ?? 10_000): Promise<void> {
    this.#drained ??= this.#drain(timeoutMs)
    return this.#drained
  }

  close(): Promise<void> {
    return this.drain()
  }

  async #drain(timeoutMs: number): Promise<void> {
    this.#draining = true
    clearInterval(this.#fenceTimer)
    await Promise.all(this.#subs.map((s) => s.close()))
    for (const t of this.#tasks.values()) {
      if (!t.run) this.#endWaiting(t, 'shutdown')
      // A frozen task would never finish by itself; it stays Paused, to be resumed (from its start) elsewhere.
      else if (t.frozen) this.#stop(t, 'paused')
    }
    const all = Promise.all([...this.#tasks.values()].map((t) => t.ended.promise))
    let timer: NodeJS.Timeout | undefined
    const waited = await Promise.race([all.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))])
    clearTimeout(timer)
    if (!waited) {
      this.#log.warn({ tasks: [...this.#tasks.keys()], timeoutMs }, 'drain timeout: aborting the remaining tasks with shutdown')
      for (const t of this.#tasks.values()) t.run?.abort('shutdown')
    }
    await Promise.all([...this.#tasks.values()].map((t) => t.ended.promise))
    await Promise.all([...this.#hosts.values()].map((h) => h.close()))
  }

  #emit(event: NodeEvent): void {
    try {
      this.#o.onEvent?.(event)
    } catch (error) {
      this.#log.error({ err: error }, 'onEvent listener threw')
    }
  }

  async #admit(id: string): Promise<AdmitResult> {
    const ignore = (reason: IgnoredReason): AdmitResult => {
      this.#log.debug({ taskId: id, reason }, 'assign ignored')
      this.#emit({ type: 'assign-ignored', taskId: id, reason })
      return { kind: 'ignored', reason }
    }
    if (this.#draining) return ignore('draining')
    if (this.#tasks.has(id) || this.#loading.has(id)) return ignore('already-running')
    this.#loading.add(id)
    try {
      const task = await this.#store.get(id)
      if (this.#draining) return ignore('draining')
      if (!task) return ignore('not-found')
      const decision = admission(task, {
        skaldId: this.skaldId,
        requeueWhenFull: this.mode === 'node',
        workers: this.#o.workers,
        perClass: this.#o.limits?.perClass,
        maxTasks: this.maxTasks,
        running: this.#tasks,
        now: Date.now(),
      })
      if (decision.kind === 'ignore') return ignore(decision.reason)
      if (decision.kind === 'refuse') return await this.#refuse(task, decision.code, decision.message, decision.requeue)
      const cls = decision.cls
      const local = newLocalTask(task, cls)
      this.#tasks.set(id, local)
      if (!(await this.#begin(local))) return ignore('superseded')
      return { kind: 'started', epoch: local.epoch, ended: local.ended.promise }
    } finally {
      this.#loading.delete(id)
    }
  }

  /** A bad assignment: Failed with the reason (or, when the node is full, back to Created unassigned). */
  async #refuse(task: Task, code: string, message: string, requeue: boolean): Promise<AdmitResult> {
    const error = `${code}: ${message}`
    this.#log.warn({ taskId: task.id, code }, message)
    const patch: TaskPatch = requeue
      ? { lifecycleStatus: 'Created', executor: null, runtime: { lastError: error } }
      : { lifecycleStatus: 'Failed', runtime: { lastError: error } }
    try {
      await this.#store.update(task.id, patch, { expect: { epoch: task.runtime.epoch, executor: this.skaldId } })
    } catch (e) {
      if (e instanceof TaskConflictError || e instanceof TaskNotFoundError) return { kind: 'ignored', reason: 'superseded' }
      throw e
    }
    if (!requeue) this.#reporter.ended(task.id, task.runtime.epoch, { status: 'failed', error })
    this.#emit({ type: 'task-rejected', taskId: task.id, code, reason: error })
    return { kind: 'rejected', code, reason: error }
  }

  /** Compare-and-set on the epoch and executor; false (and the task marked superseded) when another owns it now. */
  async #write(t: LocalTask, patch: TaskPatch, expectStatus?: TaskLifecycleStatus[]): Promise<boolean> {
    if (t.superseded) return false
    try {
      // The node's copy saves MongoDB a read, unless the run was stopped from outside (a cancel or pause the API
      // stored first): the copy is stale then, and trying it would cost a round trip.
      const current = t.stopping ? undefined : t.task
      t.task = await this.#store.update(t.id, patch, { expect: { epoch: t.epoch, executor: this.skaldId, ...(expectStatus ? { lifecycleStatus: expectStatus } : {}) }, current })
      return true
    } catch (error) {
      if (!(error instanceof TaskConflictError || error instanceof TaskNotFoundError)) throw error
      // Cancelled through the API under this very assignment: the run is ours to end, as cancelled (heartbeat -2).
      const current = error instanceof TaskConflictError ? error.current : undefined
      if (current?.lifecycleStatus === 'Cancelled' && current.runtime.epoch === t.epoch && current.executor === this.skaldId) {
        t.task = current
        t.cancelledInStore = true
        return false
      }
      this.#log.info({ taskId: t.id, epoch: t.epoch }, 'task superseded: its epoch or executor moved on')
      this.#supersede(t)
      return false
    }
  }

  #supersede(t: LocalTask): void {
    if (t.superseded) return
    t.superseded = true
    if (t.run) t.run.abort('superseded')
    else this.#endWaiting(t, 'superseded')
  }

  /** Marks the task Running as the next attempt and starts it; false when superseded meanwhile. */
  async #begin(t: LocalTask): Promise<boolean> {
    const attempt = t.task.runtime.attempt + 1
    // Only from a status a run starts from: a task cancelled or paused through the API meanwhile is not restarted.
    if (!(await this.#write(t, { lifecycleStatus: 'Running', runtime: { attempt, pausedAt: null } }, ['Created', 'Assigning', 'Running']))) return false
    t.attempt = attempt
    const host = this.#host(t.cls.isolation ?? 'process')
    const checkpoint = t.task.runtime.checkpoint
    t.lastCheckpoint = checkpoint
    t.savedCheckpoint = checkpoint
    const run = host.start({
      worker: t.cls.worker,
      taskId: t.id,
      epoch: t.epoch,
      attachments: t.task.attachments ?? {},
      ...(checkpoint !== null ? { resumedFrom: checkpoint } : {}),
      ...(t.task.deadlineDateTime > 0 ? { deadlineAt: t.task.deadlineDateTime } : {}),
      onEvent: (event) => this.#onWorkerEvent(t, event),
    })
    t.run = run
    this.#reporter.started(t.id, t.epoch, t.className)
    this.#emit({ type: 'task-started', taskId: t.id, epoch: t.epoch, attempt, className: t.className })
    void run.done.then((outcome) => this.#settle(t, outcome)).catch((error: unknown) => this.#crashed(t, error))
    return true
  }

  #host(isolation: Isolation): WorkerHost {
    let host = this.#hosts.get(isolation)
    if (!host) {
      host = this.#o.createHost ? this.#o.createHost(isolation) : createWorkerHost(isolation, this.#hostOptions(isolation))
      this.#hosts.set(isolation, host)
    }
    return host
  }

  /**
   * The host options, with `preload` defaulting to the modules of the classes registered for `isolation`: a warm
   * pooled child then has the user's worker module loaded before its task comes (measured: a warm start → main hook
   * 48 → 14 ms with a module importing zod), as a forked Python worker inherits its class.
   */
  #hostOptions(isolation: Isolation): AnyHostOptions | undefined {
    const given = this.#o.hostOptions
    if (given?.preload !== undefined || isolation === 'inline') return given
    const modules = new Map<string, string | URL>()
    for (const cls of Object.values(this.#o.workers)) {
      if ((cls.isolation ?? 'process') === isolation) modules.set(String(cls.worker.module), cls.worker.module)
    }
    return modules.size === 0 ? given : { ...given, preload: [...modules.values()] }
  }

  /** Resolves when the task's run reported `started` or ended (or after 10 s). */
  #leftStarting(t: LocalTask): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>()
    const timer = setTimeout(resolve, 10_000)
    t.onStarted.push(() => {
      clearTimeout(timer)
      resolve()
    })
    void t.ended.promise.then(() => t.onStarted.splice(0).forEach((f) => f()))
    return promise
  }

  #onWorkerEvent(t: LocalTask, event: WorkerEvent): void {
    if (event.type === 'started') t.onStarted.splice(0).forEach((f) => f())
    if (!t.superseded) {
      if (event.type === 'alive') this.#reporter.alive(t.id, t.epoch)
      else if (event.type === 'progress') this.#reporter.progress(t.id, t.epoch, event.value, event.message)
      else if (event.type === 'log') this.#reporter.log(t.id, t.epoch, `[${event.source}] ${event.line}`)
      else if (event.type === 'checkpoint') {
        t.lastCheckpoint = event.state
        this.#reporter.checkpoint(t.id, t.epoch, event.state)
      }
    }
    this.#emit({ type: 'worker', taskId: t.id, epoch: t.epoch, event })
  }

  /** A run ended: write its outcome (fenced), retry it, or drop it when superseded. */
  async #settle(t: LocalTask, outcome: TaskOutcome): Promise<void> {
    t.run = undefined
    const checkpoint = outcome.checkpoint ?? t.lastCheckpoint
    const maxRetries = t.task.runtime.maxRetries ?? t.cls.maxRetries ?? this.#retry.maxRetries
    const ctx = { task: t.task, attempt: t.attempt, maxRetries, policy: this.#retry, skaldId: this.skaldId, checkpoint, now: Date.now() }
    let decision: OutcomeDecision = t.superseded ? { kind: 'superseded' } : decideOutcome(outcome, ctx)
    if (decision.kind === 'retry' && (this.#draining || t.stopping)) {
      // No local retry while stopping: end as the stop says, keeping the error.
      const stopped = decideOutcome(syntheticOutcome(t.id, t.stopping ?? 'shutdown'), ctx)
      if (stopped.kind === 'write') stopped.patch.runtime = { ...stopped.patch.runtime, lastError: decision.error }
      decision = stopped
    }
    if (decision.kind === 'superseded') return this.#finish(t, 'superseded')
    if (decision.kind === 'retry') {
      if (!(await this.#write(t, decision.patch, LIVE_STATUSES))) return t.cancelledInStore ? this.#endCancelledInStore(t) : this.#finish(t, 'superseded')
      this.#log.info({ taskId: t.id, attempt: t.attempt, delayMs: decision.delayMs, err: decision.error }, 'task failed; retrying')
      this.#emit({ type: 'task-retrying', taskId: t.id, epoch: t.epoch, attempt: t.attempt, delayMs: decision.delayMs, error: decision.error })
      t.retryTimer = setTimeout(() => void this.#retryNow(t).catch((error: unknown) => this.#crashed(t, error)), decision.delayMs)
      return
    }
    if (!(await this.#write(t, decision.patch, LIVE_STATUSES))) return t.cancelledInStore ? this.#endCancelledInStore(t) : this.#finish(t, 'superseded')
    this.#reporter.ended(t.id, t.epoch, decision.ending)
    if (decision.ending.status === 'requeued') this.#announceRequeued(t.id)
    this.#finish(t, decision.status)
  }

  /** The store already says Cancelled (the API wrote it first): the run ends as cancelled, heartbeat -2 included. */
  #endCancelledInStore(t: LocalTask): void {
    this.#reporter.ended(t.id, t.epoch, { status: 'cancelled' })
    this.#finish(t, 'Cancelled')
  }

  async #retryNow(t: LocalTask): Promise<void> {
    t.retryTimer = undefined
    const task = await this.#store.get(t.id)
    if (!task || !ownedBy(task, t.epoch, this.skaldId)) {
      t.superseded = true
      return this.#finish(t, 'superseded')
    }
    t.task = task
    if (!(await this.#begin(t))) this.#finish(t, 'superseded')
  }

  /** Ends a task that waits to retry (no run): as if its run had been aborted with `reason`. */
  #endWaiting(t: LocalTask, reason: AbortReason): void {
    if (t.run || t.retryTimer === undefined) return
    clearTimeout(t.retryTimer)
    t.retryTimer = undefined
    if (reason === 'superseded') t.superseded = true
    void this.#settle(t, syntheticOutcome(t.id, reason)).catch((error: unknown) => this.#crashed(t, error))
  }

  #finish(t: LocalTask, status: EndedStatus): void {
    if (status === 'superseded') this.#reporter.ended(t.id, t.epoch, { status: 'superseded' })
    this.#tasks.delete(t.id)
    this.#emit({ type: 'task-ended', taskId: t.id, epoch: t.epoch, status })
    t.ended.resolve(status)
    // A newer assignment to this very node was ignored as a duplicate while the old run held the id: take it now.
    if (status === 'superseded' && !this.#draining && this.mode !== 'single_process') {
      void this.#admit(t.id).catch((error: unknown) => this.#log.warn({ taskId: t.id, err: error }, 'could not re-read a superseded task'))
    }
  }

  /** Tells the controllers a drained task waits to be dispatched again, so they need not wait for their sweep. */
  #announceRequeued(id: string): void {
    this.#o.bus?.publish(TASK_REQUEUED_TOPIC, id, toWireTaskEvent(createTaskEvent(id))).catch((error: unknown) => this.#log.warn({ taskId: id, err: error }, 'could not announce the handed-back task; the dispatcher finds it at its next sweep'))
  }

  /** The store failed while recording an outcome: the task stays as it was stored; the monitor's view decides. */
  #crashed(t: LocalTask, error: unknown): void {
    this.#log.error({ taskId: t.id, err: error }, 'could not record the task outcome')
    this.#finish(t, 'not-written')
  }

  /** Cancels a task this node runs (abort `cancelled` → Cancelled); other ids are ignored, as Python does. */
  cancel(id: string): void {
    const t = this.#tasks.get(id)
    if (t) this.#stop(t, 'cancelled')
  }

  /**
   * Pauses a task this node runs. A process-isolated task of a class defined with `freeze: true` is SIGSTOPped in
   * place and stored Paused under the same epoch (`resume()` thaws it); any other is aborted with `paused`: its
   * checkpoint is stored with it, to be resumed by a new assignment on any node.
   */
  async pause(id: string): Promise<void> {
    const t = this.#tasks.get(id)
    if (!t || t.frozen || t.stopping) return
    // Whether the class freezes is known once its child has loaded it: a pause while it boots waits for that.
    if (t.run?.state === 'starting') await this.#leftStarting(t)
    if (t.frozen || t.stopping) return
    if (t.run?.state === 'running') {
      try {
        t.run.freeze()
      } catch (error) {
        if (!(error instanceof FreezeUnsupportedError)) throw error
        return this.#stop(t, 'paused')
      }
      t.frozen = true
      if (await this.#write(t, { lifecycleStatus: 'Paused', runtime: { pausedAt: Date.now() } })) {
        this.#log.info({ taskId: id, pid: t.run.pid }, 'task frozen in place (SIGSTOP)')
        this.#emit({ type: 'task-frozen', taskId: id, epoch: t.epoch })
      }
      return
    }
    this.#stop(t, 'paused')
  }

  /** Thaws a task this node holds frozen and stores it Running again; ignores any other id. */
  async resume(id: string): Promise<void> {
    const t = this.#tasks.get(id)
    if (!t?.frozen || !t.run || t.stopping) return
    if (!(await this.#write(t, { lifecycleStatus: 'Running', runtime: { pausedAt: null } }))) return
    t.frozen = false
    t.run.thaw()
    this.#log.info({ taskId: id }, 'task thawed (SIGCONT)')
    this.#emit({ type: 'task-thawed', taskId: id, epoch: t.epoch })
  }

  #stop(t: LocalTask, reason: 'cancelled' | 'paused'): void {
    t.stopping ??= reason
    t.frozen = false // an abort thaws the child first
    if (t.run) t.run.abort(reason)
    else this.#endWaiting(t, reason)
  }

  /**
   * Re-reads the task and forwards its attachments to the running worker, which validates them (`task.update.attachment`).
   * An update rejected by the worker is recorded as `runtime.lastError`; the worker keeps its old values.
   */
  async update(id: string): Promise<void> {
    const t = this.#tasks.get(id)
    if (!t?.run) return
    const task = await this.#store.get(id)
    if (!task || !ownedBy(task, t.epoch, this.skaldId)) return this.#supersede(t)
    const run = t.run
    t.task = task
    const result = await run.update(task.attachments ?? {})
    if (result.accepted) {
      this.#emit({ type: 'update-forwarded', taskId: id, accepted: true })
      return
    }
    this.#log.warn({ taskId: id, reason: result.reason }, 'update rejected by the worker; it keeps its attachments')
    await this.#write(t, { runtime: { lastError: `${ManagerCode.UpdateRejected}: ${result.reason}` } })
    this.#emit({ type: 'update-forwarded', taskId: id, accepted: false, reason: result.reason })
  }

  /** Periodic fencing: a running task whose epoch or executor moved on is aborted; a new checkpoint is saved. */
  async #fenceTick(): Promise<void> {
    if (this.#fencing) return
    this.#fencing = true
    try {
      for (const t of [...this.#tasks.values()]) {
        if (t.superseded) continue
        try {
          if (t.run && t.lastCheckpoint !== t.savedCheckpoint) {
            const state = t.lastCheckpoint
            if (await this.#write(t, { runtime: { checkpoint: state } })) t.savedCheckpoint = state
          } else {
            const task = await this.#store.get(t.id)
            if (!task || !ownedBy(task, t.epoch, this.skaldId)) {
              this.#log.info({ taskId: t.id, epoch: t.epoch, storeEpoch: task?.runtime.epoch, executor: task?.executor }, 'task superseded')
              this.#supersede(t)
              continue
            }
            t.task = task
          }
          // Cancelled through the API while its task.cancel was lost: stop it all the same.
          if (!t.superseded && t.task.lifecycleStatus === 'Cancelled') this.cancel(t.id)
        } catch (error) {
          this.#log.warn({ taskId: t.id, err: error }, 'fence check failed; will retry')
        }
      }
    } finally {
      this.#fencing = false
    }
  }
}
