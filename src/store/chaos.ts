// A TaskStore wrapper that misbehaves on demand (fails, stalls, loses replies), for tests of what a node or a
// controller does when MongoDB (or the SQLite file) fails. Exported so applications can test their own code the
// same way.
import type { Task, TaskInput, TaskPatch } from '../model/task.ts'
import { StoreUnavailableError, TaskQueryError } from './errors.ts'
import type { StatusCounts, TaskClaimOptions, TaskFilter, TaskListQuery, TaskPage, TaskStamp, TaskStampPage, TaskStore, TaskUpdateOptions, TimelineEntry } from './task-store.ts'

/** The TaskStore calls a fault can apply to (`close` never fails). */
export type StoreOperation =
  | 'create'
  | 'get'
  | 'getMany'
  | 'update'
  | 'claim'
  | 'list'
  | 'listItems'
  | 'changedSince'
  | 'count'
  | 'countByStatus'
  | 'distinctClassNames'
  | 'appendTimeline'
  | 'timeline'
  | 'delete'
export const STORE_READS: readonly StoreOperation[] = ['get', 'getMany', 'list', 'listItems', 'changedSince', 'count', 'countByStatus', 'distinctClassNames', 'timeline']
export const STORE_WRITES: readonly StoreOperation[] = ['create', 'update', 'claim', 'appendTimeline', 'delete']
export const STORE_OPERATIONS: readonly StoreOperation[] = [...STORE_READS, ...STORE_WRITES]

type Fault = { kind: 'throw'; error: () => Error } | { kind: 'stall'; ms: number } | { kind: 'drop' }

/**
 * Wraps a store. Healthy, it passes everything through. On the operations given (default: all):
 * - `alwaysThrow(error?)`: the call rejects without reaching the store (default: StoreUnavailableError, an outage);
 * - `alwaysStall(ms?)`: the call waits `ms` (default: until `heal()`) and then runs;
 * - `alwaysDrop()`: the call reaches the store and takes effect, but its reply (result or error) is lost: the
 *   caller gets a StoreUnavailableError, as after a connection reset. That is the ambiguous outcome a retry must survive (a
 *   retried create meets TaskExistsError, a retried compare-and-set or claim meets TaskConflictError).
 * `heal()` restores normal behaviour and releases what is stalled. `calls` counts the calls that reached the
 * wrapper, whatever the mode.
 */
export class ChaosTaskStore implements TaskStore {
  readonly inner: TaskStore
  readonly #faults = new Map<StoreOperation, Fault>()
  readonly #stalled = new Map<StoreOperation, Set<() => void>>()
  #calls = 0

  constructor(inner: TaskStore) {
    this.inner = inner
  }

  get kind(): string {
    return this.inner.kind
  }

  get timelineRecordsEveryWriter(): boolean {
    return this.inner.timelineRecordsEveryWriter
  }

  /** Calls that reached this wrapper (whatever the mode), `close` aside. */
  get calls(): number {
    return this.#calls
  }

  /** The operations reject without reaching the store. */
  alwaysThrow(error?: Error | (() => Error), on: readonly StoreOperation[] = STORE_OPERATIONS): this {
    const make = typeof error === 'function' ? error : error ? () => error : () => new StoreUnavailableError('chaos: the store is down')
    return this.#set(on, { kind: 'throw', error: make })
  }

  /** The operations wait `ms` milliseconds before running (default: until `heal()`). */
  alwaysStall(ms = Number.POSITIVE_INFINITY, on: readonly StoreOperation[] = STORE_OPERATIONS): this {
    if (Number.isNaN(ms) || ms < 0) throw new TaskQueryError(`ChaosTaskStore.alwaysStall: ms must be >= 0, got ${ms}`)
    return this.#set(on, { kind: 'stall', ms })
  }

  /** The operations take effect, but their replies are lost (see the class). */
  alwaysDrop(on: readonly StoreOperation[] = STORE_OPERATIONS): this {
    return this.#set(on, { kind: 'drop' })
  }

  /** Back to normal on the operations (default: all); calls stalled so far run now. */
  heal(on: readonly StoreOperation[] = STORE_OPERATIONS): this {
    for (const operation of on) {
      this.#faults.delete(operation)
      for (const release of [...(this.#stalled.get(operation) ?? [])]) release()
    }
    return this
  }

  create(input: TaskInput): Promise<Task> {
    return this.#run('create', () => this.inner.create(input))
  }
  get(id: string): Promise<Task | null> {
    return this.#run('get', () => this.inner.get(id))
  }
  getMany(ids: readonly string[]): Promise<Task[]> {
    return this.#run('getMany', () => this.inner.getMany(ids))
  }
  update(id: string, patch: TaskPatch, options?: TaskUpdateOptions): Promise<Task> {
    return this.#run('update', () => this.inner.update(id, patch, options))
  }
  claim(id: string, options: TaskClaimOptions): Promise<Task> {
    return this.#run('claim', () => this.inner.claim(id, options))
  }
  list(query?: TaskListQuery): Promise<TaskPage> {
    return this.#run('list', () => this.inner.list(query))
  }
  listItems(query?: TaskListQuery): Promise<Task[]> {
    return this.#run('listItems', () => this.inner.listItems(query))
  }
  changedSince(updatedFrom: number, page?: TaskStampPage): Promise<TaskStamp[]> {
    return this.#run('changedSince', () => this.inner.changedSince(updatedFrom, page))
  }
  count(filter?: TaskFilter): Promise<number> {
    return this.#run('count', () => this.inner.count(filter))
  }
  countByStatus(filter?: TaskFilter): Promise<StatusCounts> {
    return this.#run('countByStatus', () => this.inner.countByStatus(filter))
  }
  distinctClassNames(): Promise<string[]> {
    return this.#run('distinctClassNames', () => this.inner.distinctClassNames())
  }
  appendTimeline(entries: readonly TimelineEntry[]): Promise<void> {
    return this.#run('appendTimeline', () => this.inner.appendTimeline(entries))
  }
  timeline(taskId: string, limit?: number): Promise<TimelineEntry[]> {
    return this.#run('timeline', () => this.inner.timeline(taskId, limit))
  }
  delete(id: string): Promise<boolean> {
    return this.#run('delete', () => this.inner.delete(id))
  }

  /** Closes the wrapped store; always passes through (chaos never blocks a shutdown). */
  close(): Promise<void> {
    this.heal()
    return this.inner.close()
  }

  #set(on: readonly StoreOperation[], fault: Fault): this {
    for (const operation of on) {
      if (!STORE_OPERATIONS.includes(operation)) throw new TaskQueryError(`ChaosTaskStore: unknown operation ${JSON.stringify(operation)}`)
      this.#faults.set(operation, fault)
    }
    return this
  }

  async #run<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    this.#calls++
    const fault = this.#faults.get(operation)
    if (fault?.kind === 'throw') throw fault.error()
    if (fault?.kind === 'stall') await this.#stall(operation, fault.ms)
    // The mode at the time of the reply decides: a call stalled and then healed is answered.
    const lost = (cause?: unknown): StoreUnavailableError | undefined =>
      this.#faults.get(operation)?.kind === 'drop' ? new StoreUnavailableError(`chaos: the reply to ${operation} was lost (the store got the call)`, { cause }) : undefined
    let result: T
    try {
      result = await call()
    } catch (error) {
      throw lost(error) ?? error
    }
    const error = lost()
    if (error) throw error
    return result
  }

  #stall(operation: StoreOperation, ms: number): Promise<void> {
    let stalled = this.#stalled.get(operation)
    if (!stalled) this.#stalled.set(operation, (stalled = new Set()))
    const waiting = stalled
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const release = (): void => {
        clearTimeout(timer)
        waiting.delete(release)
        resolve()
      }
      waiting.add(release)
      if (Number.isFinite(ms)) timer = setTimeout(release, ms)
    })
  }
}
