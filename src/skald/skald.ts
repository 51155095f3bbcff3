// A Skald: one process that runs TaskWorkers in one of Skalds' three modes (wire §5). It wires the task manager
// (bus events, fenced store writes, worker hosts) to the state publisher (registration, heartbeats and load, in
// Redis or in process) and, for edge and single_process, to the YAML TaskWorkers file. It owns none of the bus, the
// store or the state backend: whoever opened them closes them (src/skald/run.ts does, for the CLI).
import type { EventBus } from '../bus/types.ts'
import type { SkaldMode } from '../config/env.ts'
import { createLogger, type Logger } from '../config/logger.ts'
import { ModeEnum } from '../model/enums.ts'
import { createTaskEvent, toWireTaskEvent } from '../model/events.ts'
import { TsTopic } from '../model/topics.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { AnyHostOptions } from '../worker/create-host.ts'
import type { Isolation } from '../worker/definition.ts'
import type { WorkerHost } from '../worker/host.ts'
import { classLimit } from './admission.ts'
import { loadClassSchemas } from './class-schemas.ts'
import type { WorkerClass } from './local-task.ts'
import type { EndedStatus, NodeEvent } from './node-events.ts'
import type { SkaldStateBackend } from '../state/backend.ts'
import { createSkaldStatePublisher, type SkaldRegistration, type SkaldStatePublisher } from '../state/publisher.ts'
import { stateTaskReporter } from './state-reporter.ts'
import { ManagerCode, TaskManagerError, type RetryPolicy } from './task-outcome.ts'
import { TaskWorkerManager } from './task-manager.ts'
import { readYamlTasks, YamlTasks, type YamlReload } from './yaml-tasks.ts'


export interface SkaldOptions {
  /** this Skald's id (`SKALD_ID`); a single_process Skald runs as executor `[SP]<id>`, as Python does */
  skaldId: string
  /** default `node` */
  mode?: SkaldMode
  /** className → worker (exact, case-sensitive) */
  workers: Readonly<Record<string, WorkerClass>>
  /** the Disk Storage (tasks, statuses, checkpoints); every mode writes its tasks there */
  store: TaskStore
  /** the Event Queue; required in node mode. Without one an edge or single_process Skald gets no cancel, update or pause. */
  bus?: EventBus
  /** where registration and heartbeats go (Redis, or in process); none = nothing written, as a Python Skald without Redis */
  state?: SkaldStateBackend
  /** the TaskWorkers file; required in edge and single_process modes (`YAML_FILE`) */
  yamlFile?: string
  /** edge: apply changes of the file while running; default true */
  watchYaml?: boolean
  limits?: {
    /** tasks at once; default 16 in node mode, no limit in edge and single_process */
    maxTasks?: number
    /** per class; overrides WorkerClass.maxConcurrent */
    perClass?: Readonly<Record<string, number>>
  }
  retry?: Partial<RetryPolicy>
  hostOptions?: AnyHostOptions
  createHost?: (isolation: Isolation) => WorkerHost
  /** how often running tasks are checked against the store and their checkpoint saved, ms; default 3000 */
  fenceIntervalMs?: number
  /** stop(): how long running tasks may finish before they are aborted with `shutdown`, ms; default 10000 */
  drainTimeoutMs?: number
  /** period of registration, load and heartbeat writes, ms (`REDIS_SYNC_PERIOD`); default 3000 */
  syncPeriodMs?: number
  /** TTL of the registration keys and terminal codes, ms (`REDIS_KEY_TTL`); default 3600000 */
  keyTtlMs?: number
  /**
   * Publish each class's attachments as JSON Schema (`skalds:{id}:ts:classes`), so that a controller refuses a
   * task whose attachments the worker would refuse, before storing it. Default true. To read a class's schema
   * the node imports the class's module once, in the background after registering: a module whose tasks run in a
   * child process or a worker thread is then also loaded by the node process, and its import-time side effects
   * (connections, timers, heavy native modules) run there too. Turn it off for such modules; their tasks' attachments
   * are then checked by the worker only, when it starts.
   */
  publishAttachmentSchemas?: boolean
  logger?: Logger
  onEvent?: (event: NodeEvent) => void
  /** edge: each reload of the YAML file, or the error that kept it from applying */
  onYamlReload?: (result: YamlReload | Error) => void
}

/** How a single_process Skald's task ended, and the exit code its process should return. */
export interface SingleProcessResult {
  taskId: string
  status: EndedStatus | 'rejected' | 'not-started'
  /** see {@link exitCodeOf} */
  exitCode: number
  reason?: string
}

/**
 * Exit codes of a single_process Skald: 0 Finished, 1 Failed (or refused), 3 Cancelled, 4 Paused (run it again to
 * resume from its checkpoint), 5 handed back at shutdown or superseded, 70 the outcome could not be stored.
 * A YAML or configuration error at start-up is 2 (the CLI's), a signal 128 + its number (130 SIGINT, 143 SIGTERM).
 */
export function exitCodeOf(status: SingleProcessResult['status']): number {
  switch (status) {
    case 'Finished':
      return 0
    case 'Failed':
    case 'rejected':
    case 'not-started':
      return 1
    case 'Cancelled':
      return 3
    case 'Paused':
      return 4
    case 'Created':
    case 'superseded':
      return 5
    case 'not-written':
      return 70
  }
}

export class Skald {
  readonly id: string
  readonly mode: SkaldMode
  readonly manager: TaskWorkerManager
  /** single_process: resolves when its task ended; undefined in the other modes */
  readonly result: Promise<SingleProcessResult> | undefined
  readonly #publisher: SkaldStatePublisher | undefined
  /** replaced once, when the class schemas are known */
  #registration: SkaldRegistration | undefined
  readonly #yaml: YamlTasks | undefined
  readonly #log: Logger
  #stopped: Promise<void> | undefined

  private constructor(parts: {
    id: string
    mode: SkaldMode
    manager: TaskWorkerManager
    publisher: SkaldStatePublisher | undefined
    registration: SkaldRegistration | undefined
    yaml: YamlTasks | undefined
    result: Promise<SingleProcessResult> | undefined
    log: Logger
  }) {
    this.id = parts.id
    this.mode = parts.mode
    this.manager = parts.manager
    this.#publisher = parts.publisher
    this.#registration = parts.registration
    this.#yaml = parts.yaml
    this.result = parts.result
    this.#log = parts.log
  }

  /**
   * Starts a Skald: registers it (node, edge), subscribes to its topics, and starts the YAML file's tasks (edge:
   * every entry; single_process: the first).
   * @throws TaskManagerError `E_SKALD_OPTIONS` for bad options; TaskWorkersFileError (`file:line: field: reason`)
   * for a bad YAML file, before anything is written or started
   */
  static async start(options: SkaldOptions): Promise<Skald> {
    const mode = options.mode ?? 'node'
    const fail = (message: string): never => {
      throw new TaskManagerError(ManagerCode.Options, `Skald: ${message}`)
    }
    if (!['node', 'edge', 'single_process'].includes(mode)) fail(`mode must be node, edge or single_process, got ${JSON.stringify(mode)}`)
    if (mode === 'node' && !options.bus) fail('node mode needs a bus: its tasks arrive as task.assign events')
    if (mode !== 'node' && !options.yamlFile) fail(`${mode} mode needs yamlFile (YAML_FILE): the TaskWorkers to run`)
    if (Object.keys(options.workers).length === 0) fail('workers must register at least one worker class')
    const id = mode === 'single_process' ? `[SP]${options.skaldId}` : options.skaldId
    const base = options.logger ?? createLogger('skalds:skald')
    const log = base.child({ skaldId: id, mode })

    // Read the file first: a broken file refuses the start before anything is written.
    let entries = mode === 'node' ? [] : readYamlTasks(options.yamlFile!, options.workers, log)
    if (mode === 'single_process') {
      if (entries.length === 0) throw new TaskManagerError(ManagerCode.Options, `Skald: ${options.yamlFile}: TaskWorkers has no entry to run`)
      entries = entries.slice(0, 1)
    }

    const publisher: SkaldStatePublisher | undefined = options.state
      ? createSkaldStatePublisher(options.state, {
          isCurrent: (taskId, epoch) => manager.owns(taskId, epoch),
          periodMs: options.syncPeriodMs ?? 3000,
          keyTtlMs: options.keyTtlMs ?? 3_600_000,
          onError: (error) => log.warn({ err: error }, 'state write failed; the next tick writes everything again'),
        })
      : undefined
    // A node tells the controllers when a run ended, once its load in Redis says so: the slot is used at once rather
    // than at the next node-monitor cycle (seconds later; short tasks would wait on it).
    const bus = options.bus
    const announceEnded =
      mode === 'node' && bus
        ? (taskId: string): void =>
            void bus.publish(TsTopic.TaskEnded, id, toWireTaskEvent(createTaskEvent(taskId))).catch((error: unknown) => log.debug({ err: error, taskId }, 'could not announce the ended run'))
        : undefined
    const manager: TaskWorkerManager = new TaskWorkerManager({
      skaldId: id,
      mode,
      ...(options.bus ? { bus: options.bus } : {}),
      store: options.store,
      workers: options.workers,
      ...(options.createHost ? { createHost: options.createHost } : {}),
      ...(options.hostOptions ? { hostOptions: options.hostOptions } : {}),
      ...(publisher ? { reporter: stateTaskReporter(publisher, (error) => log.warn({ err: error }, 'task state write failed'), announceEnded) } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.fenceIntervalMs !== undefined ? { fenceIntervalMs: options.fenceIntervalMs } : {}),
      ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      logger: base, // the manager binds skaldId itself
    })
    // single_process does not register (wire §5.4): it only heartbeats its task.
    const registration: SkaldRegistration | undefined =
      publisher && mode !== 'single_process' ? { skaldId: id, mode, classNames: Object.keys(options.workers), ...capacityOf(manager, options) } : undefined
    if (registration) await publisher!.register(registration)
    publisher?.startTicking()
    await manager.start()

    const yaml =
      mode === 'node'
        ? undefined
        : new YamlTasks({
            file: options.yamlFile!,
            skaldId: id,
            taskMode: mode === 'edge' ? ModeEnum.Active : ModeEnum.PassiveProcess,
            store: options.store,
            manager,
            workers: options.workers,
            logger: log,
          })
    let result: Promise<SingleProcessResult> | undefined
    try {
      const admitted = yaml ? await yaml.start(entries) : undefined
      if (mode === 'single_process') {
        const taskId = entries[0]!.taskId
        const first = admitted?.get(taskId)
        result =
          first?.kind === 'started'
            ? first.ended.then((status) => ({ taskId, status, exitCode: exitCodeOf(status) }))
            : Promise.resolve({
                taskId,
                status: first?.kind === 'rejected' ? 'rejected' : 'not-started',
                exitCode: 1,
                reason: first?.kind === 'rejected' ? first.reason : first?.kind === 'skipped' ? first.reason : `not started: ${first?.kind === 'ignored' ? first.reason : 'unknown'}`,
              })
      }
    } catch (error) {
      await manager.drain(0)
      await publisher?.close()
      throw error
    }
    if (mode === 'edge' && options.watchYaml !== false) {
      yaml!.watch((r) => {
        if (r instanceof Error) log.error({ err: r }, `TaskWorkers file not applied; the tasks run as before: ${r.message}`)
        options.onYamlReload?.(r)
      })
    }
    log.info({ classes: Object.keys(options.workers), tasks: entries.map((e) => e.taskId) }, 'Skald started')
    const skald = new Skald({ id, mode, manager, publisher, registration, yaml, result, log })
    if (registration && options.publishAttachmentSchemas !== false) void skald.#publishClassSchemas(options.workers)
    return skald
  }

  /** In the background: neither the start nor the Skald waits for it or fails with it. */
  async #publishClassSchemas(workers: SkaldOptions['workers']): Promise<void> {
    try {
      const classSchemas = await loadClassSchemas(workers, this.#log)
      if (this.#stopped || !this.#registration) return
      this.#registration = { ...this.#registration, classSchemas }
      // Should this write fail, the ticks write the schemas (the publisher keeps them).
      await this.#publisher?.register(this.#registration)
      this.#log.debug({ classes: Object.keys(classSchemas).filter((name) => classSchemas[name] !== null) }, 'attachment schemas published')
    } catch (error) {
      this.#log.warn({ err: error }, 'attachment schemas not published yet; the next tick writes them')
    }
  }

  /** edge: applies the YAML file now (what a change of the file does by itself). */
  async reload(): Promise<YamlReload | null> {
    if (!this.#yaml || this.mode !== 'edge') throw new TaskManagerError(ManagerCode.Options, `Skald: reload() is for edge mode, this Skald runs ${this.mode}`)
    return this.#yaml.reload()
  }

  /**
   * Stops taking work, lets running tasks finish within `drainTimeoutMs`, then aborts the rest with `shutdown`
   * (persistent tasks are handed back to be dispatched again, never Cancelled), and stops writing state. Idempotent.
   */
  stop(drainTimeoutMs?: number): Promise<void> {
    this.#stopped ??= (async () => {
      this.#log.info({ running: this.manager.running.length }, 'Skald stopping')
      this.#yaml?.close()
      // Say it at once, so a dispatcher sends nothing more while the node still looks online.
      if (this.#registration) await this.#publisher?.register({ ...this.#registration, draining: true }).catch((error: unknown) => this.#log.warn({ err: error }, 'could not advertise draining'))
      await this.manager.drain(drainTimeoutMs)
      await this.#publisher?.close()
      this.#log.info('Skald stopped')
    })()
    return this.#stopped
  }
}

/** The capacity a node advertises (in `skalds:{id}:ts:load`), from the manager's limits and each class's. */
function capacityOf(manager: TaskWorkerManager, options: SkaldOptions): { capacity?: number; classCapacity?: Record<string, number> } {
  const classCapacity: Record<string, number> = {}
  for (const [name, cls] of Object.entries(options.workers)) {
    const limit = classLimit(name, cls, options.limits?.perClass)
    if (limit !== undefined) classCapacity[name] = limit
  }
  return {
    ...(Number.isFinite(manager.maxTasks) ? { capacity: manager.maxTasks } : {}),
    ...(Object.keys(classCapacity).length > 0 ? { classCapacity } : {}),
  }
}
