// The tasks of an edge or single_process Skald, from its YAML TaskWorkers file (wire §5.3, §5.4): each entry is
// written to the store (created, or taken over) and assigned to this Skald, then handed to the manager. An edge
// Skald follows the file: new entries start, removed ones stop, changed attachments become a live update. The
// user's file is only ever read (Python rewrites it in place, losing its comments).
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { Logger } from '../config/logger.ts'
import { readTaskWorkersFile, TaskWorkersFileError, type TaskWorkerEntry } from '../config/taskworkers-yaml.ts'
import { ModeEnum } from '../model/enums.ts'
import type { Task } from '../model/task.ts'
import { TaskConflictError } from '../store/errors.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { AdmitResult, WorkerClass } from './local-task.ts'
import type { EndedStatus } from './node-events.ts'
import type { TaskWorkerManager } from './task-manager.ts'

/** What a YAML reload did, for logs and tests. */
export interface YamlReload {
  started: string[]
  stopped: string[]
  updated: string[]
  /** entries left alone, with the reason (a class mismatch with the stored task, a store failure) */
  skipped: Array<{ taskId: string; reason: string }>
}

export interface YamlTasksOptions {
  file: string
  skaldId: string
  /** `Active` for edge (monitored, never dispatched), `PassiveProcess` for single_process */
  taskMode: ModeEnum
  store: TaskStore
  manager: TaskWorkerManager
  workers: Readonly<Record<string, WorkerClass>>
  logger: Logger
}

/**
 * Reads and checks the file: every entry's class must be registered here.
 * @throws TaskWorkersFileError `file:line: TaskWorkers.<id>.<field>: reason`
 */
export function readYamlTasks(file: string, workers: Readonly<Record<string, WorkerClass>>, logger: Logger): TaskWorkerEntry[] {
  const entries = readTaskWorkersFile(file, { onWarning: (message) => logger.warn(message) })
  for (const entry of entries) {
    if (!Object.hasOwn(workers, entry.className)) {
      const known = Object.keys(workers).join(', ') || 'none'
      throw new TaskWorkersFileError(file, entry.line, `TaskWorkers.${entry.taskId}.className`, `class ${JSON.stringify(entry.className)} is not registered on this Skald (registered: ${known})`)
    }
  }
  return entries
}

export class YamlTasks {
  readonly #o: YamlTasksOptions
  /** the entries as last read, by task id */
  #entries = new Map<string, TaskWorkerEntry>()
  /** the runs admitted, by task id: a reload waits for a stopped one before starting its id again */
  #ended = new Map<string, Promise<EndedStatus>>()
  #watcher: FSWatcher | undefined
  #debounce: NodeJS.Timeout | undefined
  #reloading: Promise<YamlReload | null> = Promise.resolve(null)
  #closed = false

  constructor(options: YamlTasksOptions) {
    this.#o = options
  }

  /** Starts `entries` (read by {@link readYamlTasks}); resolves with what each admission did, by task id. */
  async start(entries: readonly TaskWorkerEntry[]): Promise<Map<string, AdmitResult | { kind: 'skipped'; reason: string }>> {
    const results = new Map<string, AdmitResult | { kind: 'skipped'; reason: string }>()
    for (const entry of entries) {
      this.#entries.set(entry.taskId, entry)
      results.set(entry.taskId, await this.#place(entry, 'start'))
    }
    return results
  }

  /** Reloads the file when it changes (debounced 200 ms); a reload that fails keeps the tasks as they run. */
  watch(onReload: (result: YamlReload | Error) => void): void {
    const file = resolve(this.#o.file)
    // Editors replace a file by renaming over it, which ends a watch on the file itself: watch its folder.
    this.#watcher = watch(dirname(file), (_event, name) => {
      if (name !== null && name !== basename(file)) return
      clearTimeout(this.#debounce)
      this.#debounce = setTimeout(() => {
        this.reload().then((r) => r && onReload(r), (error: unknown) => onReload(error as Error))
      }, 200)
    })
    this.#watcher.on('error', (error) => this.#o.logger.error({ err: error, file }, 'cannot watch the TaskWorkers file'))
    this.#watcher.unref()
  }

  /**
   * Reads the file again and applies the difference: new entries start, removed ones are cancelled, a changed
   * className restarts the task, changed attachments are stored and sent to the running worker as an update.
   * @throws TaskWorkersFileError when the file is invalid now (nothing is changed then)
   */
  reload(): Promise<YamlReload | null> {
    const next = this.#reloading.then(() => this.#reload())
    this.#reloading = next.catch(() => null)
    return next
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#debounce)
    this.#watcher?.close()
  }

  async #reload(): Promise<YamlReload | null> {
    if (this.#closed) return null
    const { file, manager, store, workers, logger } = this.#o
    const entries = readYamlTasks(file, workers, logger)
    const result: YamlReload = { started: [], stopped: [], updated: [], skipped: [] }
    const next = new Map(entries.map((e) => [e.taskId, e]))
    for (const [id, old] of this.#entries) {
      const now = next.get(id)
      if (now && now.className === old.className) continue
      manager.cancel(id)
      result.stopped.push(id)
    }
    // Wait for the stopped ones, so a task whose class changed can start again under the same id.
    await Promise.all(result.stopped.map((id) => this.#ended.get(id) ?? Promise.resolve()))
    for (const entry of entries) {
      const old = this.#entries.get(entry.taskId)
      if (old && old.className === entry.className) {
        const attachmentsChanged = !isDeepStrictEqual(old.attachments, entry.attachments)
        if (!attachmentsChanged && old.isPersistent === entry.isPersistent) continue
        await store.update(entry.taskId, { isPersistent: entry.isPersistent, ...(attachmentsChanged ? { attachments: entry.attachments } : {}) })
        if (!attachmentsChanged) continue
        await manager.update(entry.taskId)
        result.updated.push(entry.taskId)
        continue
      }
      const placed = await this.#place(entry, 'reload')
      if (placed.kind === 'skipped') result.skipped.push({ taskId: entry.taskId, reason: placed.reason })
      else result.started.push(entry.taskId)
    }
    this.#entries = next
    logger.info({ file, ...result }, 'TaskWorkers file reloaded')
    return result
  }

  /**
   * Writes the entry's task (created, or taken over when it exists) with this Skald as executor and a new epoch,
   * then admits it. An existing task keeps its stored attachments at start-up (the API may have changed them, as
   * in Python, where the store wins); a reload stores the file's.
   */
  async #place(entry: TaskWorkerEntry, when: 'start' | 'reload'): Promise<AdmitResult | { kind: 'skipped'; reason: string }> {
    const { file, skaldId, taskMode, store, manager, logger } = this.#o
    const where = `${file}:${entry.line}: TaskWorkers.${entry.taskId}`
    let task: Task | null = await store.get(entry.taskId)
    const skip = (reason: string): { kind: 'skipped'; reason: string } => {
      logger.error(reason)
      return { kind: 'skipped', reason }
    }
    if (task && task.className !== entry.className) {
      return skip(`${where}.className: ${JSON.stringify(entry.className)}, but the stored task ${JSON.stringify(entry.taskId)} has class ${JSON.stringify(task.className)}; not started (delete the stored task or rename the entry)`)
    }
    // An edge task paused through the API stays paused until resumed there (which reassigns it to this Skald); a
    // single_process run started again is the resume.
    if (task?.lifecycleStatus === 'Paused' && taskMode === ModeEnum.Active) return skip(`${where}: the stored task is Paused; resume it through the controller`)
    if (!task) {
      task = await store.create({
        id: entry.taskId,
        name: entry.taskId,
        className: entry.className,
        source: 'YAML',
        description: `${taskMode} TaskWorker from YAML. ClassName: ${entry.className}`,
        mode: taskMode,
        isPersistent: entry.isPersistent,
        // 0 = no deadline, as Python writes edge tasks (a stream analysis runs until stopped)
        deadlineDateTime: 0,
        attachments: entry.attachments,
        executor: skaldId,
      })
    } else if (when === 'reload' && !isDeepStrictEqual(task.attachments ?? {}, entry.attachments)) {
      task = await store.update(entry.taskId, { attachments: entry.attachments })
    } else if (!isDeepStrictEqual(task.attachments ?? {}, entry.attachments)) {
      logger.warn({ taskId: entry.taskId }, `${where}.attachments: differ from the stored task's, which are used (changed through the API); edit the file while the Skald runs to apply the file's`)
    }
    try {
      await store.claim(entry.taskId, { executor: skaldId, expectEpoch: task.runtime.epoch })
    } catch (error) {
      if (error instanceof TaskConflictError) return skip(`${where}: claimed by ${String(error.current?.executor)} meanwhile; not started`)
      throw error
    }
    const admitted = await manager.admit(entry.taskId)
    if (admitted.kind === 'started') this.#ended.set(entry.taskId, admitted.ended)
    return admitted
  }
}
