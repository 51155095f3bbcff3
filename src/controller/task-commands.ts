// What a user asks of one task, through the API or the dashboard: create, cancel, pause, resume, update its
// attachments, retry. Each is a compare-and-set on the stored task plus, when a bus is configured, the event the
// nodes act on — published by every controller whatever its mode or leadership (a command is not a decision).
import type { EventBus } from '../bus/types.ts'
import type { Logger } from '../config/logger.ts'
import { SkaldsError } from '../model/errors.ts'
import { createTaskEvent, toWireTaskEvent } from '../model/events.ts'
import type { Attachments, Task, TaskInput } from '../model/task.ts'
import { Topic, TsTopic } from '../model/topics.ts'
import { isPlainObject } from '../model/wire-values.ts'
import { TaskConflictError, TaskNotFoundError } from '../store/errors.ts'
import type { TaskStore } from '../store/task-store.ts'
import { AttachmentCheck } from './attachment-check.ts'
import type { NodeMonitor } from './node-monitor.ts'

export interface TaskCommandsOptions {
  store: TaskStore
  bus: EventBus | undefined
  /**
   * the control plane's view of the nodes: a resume thaws a frozen task in place when its node still holds it, and
   * new attachments are checked against the schemas the nodes published (none = no check)
   */
  nodes: NodeMonitor | undefined
  /** dispatch soon (the control plane's kick) */
  kick: () => void
  logger: Logger
}

/** A command that does not apply to the task as it is now (e.g. resume of a Running task); an HTTP 409. */
export class TaskStateError extends SkaldsError {
  readonly taskId: string
  /** the task as stored */
  readonly current: Task
  constructor(current: Task, message: string) {
    super('E_TASK_STATE', message)
    this.taskId = current.id
    this.current = current
  }
}

export class TaskCommands {
  readonly #o: TaskCommandsOptions
  readonly #attachments: AttachmentCheck | undefined

  constructor(options: TaskCommandsOptions) {
    this.#o = options
    const nodes = options.nodes
    this.#attachments = nodes ? new AttachmentCheck({ nodes: () => nodes.nodes.values(), logger: options.logger }) : undefined
  }

  /**
   * Creates a task (validated by the store) and dispatches it at once. Its attachments are checked first against
   * the schema its class's online nodes published; with none, it is stored unchecked.
   * @throws AttachmentsInvalidError when they do not match (nothing stored)
   */
  async create(input: TaskInput): Promise<Task> {
    this.#checkAttachments(input.className, input.attachments)
    const task = await this.#o.store.create(input)
    this.#o.kick()
    return task
  }

  /**
   * Cancels a task. The status is stored at once (so a task whose node is gone cannot be failed over and run
   * again), then `task.cancel` tells the node to stop the run; a node also stops a run it finds Cancelled in the
   * store at its next fence check, should the event be lost.
   * @throws TaskNotFoundError; TaskStateError when it already Finished, Failed or was Cancelled
   */
  async cancel(id: string): Promise<Task> {
    const task = await this.#change(id, ['Created', 'Assigning', 'Running', 'Paused'], 'cancel', { lifecycleStatus: 'Cancelled' })
    await this.#publish(Topic.TaskCancel, id)
    return task
  }

  /**
   * Pauses a task. A task that is not running yet is stored Paused here; a running one is paused by its node
   * (cooperative: checkpoint and stop; or frozen in place), which stores Paused itself.
   * @throws TaskNotFoundError; TaskStateError when it is not Created, Assigning or Running
   */
  async pause(id: string): Promise<Task> {
    const task = await this.#get(id)
    if (task.lifecycleStatus === 'Created') return this.#change(id, ['Created'], 'pause', { lifecycleStatus: 'Paused', runtime: { pausedAt: Date.now() } }, task)
    if (task.lifecycleStatus !== 'Assigning' && task.lifecycleStatus !== 'Running') throw stateError(task, 'pause', ['Created', 'Assigning', 'Running'])
    await this.#publish(TsTopic.TaskPause, id)
    return task
  }

  /**
   * Resumes a Paused task. A task frozen in place (its node still holds it) is thawed there; any other goes back
   * to be dispatched with its checkpoint and latest attachments, to any node that has the class.
   * @throws TaskNotFoundError; TaskStateError when it is not Paused
   */
  async resume(id: string): Promise<Task> {
    const task = await this.#get(id)
    if (task.lifecycleStatus !== 'Paused') throw stateError(task, 'resume', ['Paused'])
    // A cooperative pause leaves no executor; a frozen task keeps the one that holds it, stopped.
    const holder = task.executor ? this.#o.nodes?.nodes.get(task.executor) : undefined
    if (holder?.online) {
      await this.#publish(TsTopic.TaskResume, id)
      return task
    }
    const resumed = await this.#change(id, ['Paused'], 'resume', { lifecycleStatus: 'Created', executor: null, runtime: { pausedAt: null, notBefore: null } }, task)
    this.#o.kick()
    return resumed
  }

  /**
   * Stores new attachments and tells the node running the task (`task.update.attachment`); its worker validates
   * them and takes them live, or rejects them (then `runtime.lastError` says why and the worker keeps its values).
   * They are checked first, as at create.
   * @throws TaskNotFoundError; AttachmentsInvalidError when they do not match (nothing stored)
   */
  async updateAttachments(id: string, attachments: Attachments | null): Promise<Task> {
    if (this.#attachments) this.#checkAttachments((await this.#get(id)).className, attachments)
    const task = await this.#o.store.update(id, { attachments })
    await this.#publish(Topic.TaskUpdateAttachment, id)
    return task
  }

  /**
   * Runs a Failed or Cancelled task again: back to Created with no executor, its checkpoint kept, dispatched at once.
   * @throws TaskNotFoundError; TaskStateError when it is not Failed or Cancelled
   */
  async retry(id: string): Promise<Task> {
    const task = await this.#change(id, ['Failed', 'Cancelled'], 'retry', { lifecycleStatus: 'Created', executor: null, runtime: { notBefore: null, pausedAt: null } })
    this.#o.kick()
    return task
  }

  /** Attachments that are not an object (or none) are left to the store, which refuses them with its own error. */
  #checkAttachments(className: unknown, attachments: unknown): void {
    if (!this.#attachments || typeof className !== 'string') return
    if (attachments !== undefined && attachments !== null && !isPlainObject(attachments)) return
    this.#attachments.check(className, attachments)
  }

  async #get(id: string): Promise<Task> {
    const task = await this.#o.store.get(id)
    if (!task) throw new TaskNotFoundError(id)
    return task
  }

  /** A compare-and-set from one of `from` (read now, or `read`), with the epoch read. */
  async #change(id: string, from: Task['lifecycleStatus'][], what: string, patch: Parameters<TaskStore['update']>[1], read?: Task): Promise<Task> {
    const task = read ?? (await this.#get(id))
    if (!from.includes(task.lifecycleStatus)) throw stateError(task, what, from)
    try {
      const changed = await this.#o.store.update(id, patch, { expect: { lifecycleStatus: task.lifecycleStatus, epoch: task.runtime.epoch } })
      this.#o.logger.info({ taskId: id, from: task.lifecycleStatus, to: changed.lifecycleStatus }, `task ${what}`)
      return changed
    } catch (error) {
      // Moved on meanwhile (a node finished it, another user acted): judge again against what is there now.
      if (error instanceof TaskConflictError && error.current && !from.includes(error.current.lifecycleStatus)) throw stateError(error.current, what, from)
      throw error
    }
  }

  async #publish(topic: string, id: string): Promise<void> {
    await this.#o.bus?.publish(topic, id, toWireTaskEvent(createTaskEvent(id)))
  }
}

function stateError(task: Task, what: string, from: readonly string[]): TaskStateError {
  return new TaskStateError(task, `cannot ${what} task ${JSON.stringify(task.id)}: it is ${task.lifecycleStatus} (only ${from.join(', ')})`)
}
