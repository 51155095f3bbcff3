// What one invalidation drops (a Scope), how a change maps to one, how it is applied to the cache namespaces, and
// the reads in flight that an invalidation must wait for: a read that took its value from the store before the write
// may store it after the delete, so the delete is repeated once those reads have settled.
import type { CacheService } from '../../cache/service/cache-service.ts'
import type { TaskChange } from '../task-reads.ts'
import { LIST_TAG, SKALD_TAG, STATISTICS_KEY, skaldKey, taskKey } from './keys.ts'
import { TaskCacheArgumentError, type TaskCacheType } from './options.ts'

/**
 * What happened to a task, as `changed()` is told. {@link TaskChange} is the controller API's (src/controller/http):
 * the routes record their writes through it, so the task caches take the same type.
 *  - `progress`: only the run state moved (progress, heartbeat, checkpoint): the progress and execution entries drop;
 *  - every other kind also drops the task's status entry, the per-Skald lists of `executor` and `previousExecutor`
 *    (`null` = unassigned; left out = not known, and then every per-Skald list drops), every list page and the
 *    statistics.
 */
export type TaskChangeKind = TaskChange['kind']
export const TASK_CHANGE_KINDS: readonly TaskChangeKind[] = ['created', 'status', 'attachments', 'cancelled', 'deleted', 'progress']

/** The entries one invalidation drops. */
export interface Scope {
  /** everything under the task caches' namespace */
  all: boolean
  /** status, progress and execution entries of these tasks */
  tasks: Set<string>
  /** progress and execution entries only */
  runs: Set<string>
  skalds: Set<string>
  allSkalds: boolean
  lists: boolean
  statistics: boolean
}

export function emptyScope(): Scope {
  return { all: false, tasks: new Set(), runs: new Set(), skalds: new Set(), allSkalds: false, lists: false, statistics: false }
}

export function allScope(): Scope {
  return { ...emptyScope(), all: true }
}

export function mergeScope(into: Scope, from: Scope): void {
  into.all ||= from.all
  for (const id of from.tasks) into.tasks.add(id)
  for (const id of from.runs) into.runs.add(id)
  for (const id of from.skalds) into.skalds.add(id)
  into.allSkalds ||= from.allSkalds
  into.lists ||= from.lists
  into.statistics ||= from.statistics
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

export function checkId(value: unknown, what: string): string {
  if (!isId(value)) throw new TaskCacheArgumentError(`${what}: must be a non-empty string, got ${value === '' ? 'an empty string' : typeof value}`)
  return value
}

function executorProblem(value: unknown): boolean {
  return value !== undefined && value !== null && !isId(value)
}

export function scopeOfChange(change: TaskChange): Scope {
  if (typeof change !== 'object' || change === null) throw new TaskCacheArgumentError('change: must be { id, kind, executor?, previousExecutor? }')
  const id = checkId(change.id, 'change.id')
  if (!(TASK_CHANGE_KINDS as readonly unknown[]).includes(change.kind)) {
    throw new TaskCacheArgumentError(`change.kind: must be one of ${TASK_CHANGE_KINDS.join(', ')}, got ${JSON.stringify(change.kind)}`)
  }
  if (executorProblem(change.executor)) throw new TaskCacheArgumentError('change.executor: must be a non-empty string, null, or left out')
  if (executorProblem(change.previousExecutor)) throw new TaskCacheArgumentError('change.previousExecutor: must be a non-empty string, null, or left out')
  const scope = emptyScope()
  if (change.kind === 'progress') {
    scope.runs.add(id)
    return scope
  }
  scope.tasks.add(id)
  scope.lists = true
  scope.statistics = true
  for (const executor of [change.executor, change.previousExecutor]) {
    if (executor === undefined) scope.allSkalds = true
    else if (executor !== null) scope.skalds.add(executor)
  }
  return scope
}

/** The CacheService namespace of each cache type, and the task caches' own (the parent of them all). */
export type Spaces = Record<TaskCacheType, CacheService> & { root: CacheService }

/** Deletes what the scope names. Resolves when every delete returned (a non-strict cache absorbs failures). */
export async function applyScope(scope: Scope, spaces: Spaces): Promise<void> {
  if (scope.all) {
    await spaces.root.clear()
    return
  }
  const ops: Array<Promise<unknown>> = []
  const tasks = [...scope.tasks].map(taskKey)
  const runs = [...new Set([...scope.tasks, ...scope.runs])].map(taskKey)
  if (tasks.length > 0) ops.push(spaces.status.deleteMany(tasks))
  if (runs.length > 0) ops.push(spaces.progress.deleteMany(runs), spaces.execution.deleteMany(runs))
  if (scope.allSkalds) ops.push(spaces.skaldTasks.invalidateTags([SKALD_TAG]))
  else if (scope.skalds.size > 0) ops.push(spaces.skaldTasks.deleteMany([...scope.skalds].map(skaldKey)))
  if (scope.lists) ops.push(spaces.list.invalidateTags([LIST_TAG]))
  if (scope.statistics) ops.push(spaces.statistics.delete(STATISTICS_KEY))
  await Promise.all(ops)
}

interface Inflight {
  type: TaskCacheType
  id: string | undefined
  done: Promise<unknown>
}

/** The cache reads (getOrSet calls) of this process that have not settled yet. */
export class InflightReads {
  readonly #reads = new Set<Inflight>()

  track(type: TaskCacheType, id: string | undefined, done: Promise<unknown>): void {
    const entry: Inflight = { type, id, done }
    this.#reads.add(entry)
    const remove = (): void => void this.#reads.delete(entry)
    done.then(remove, remove)
  }

  get size(): number {
    return this.#reads.size
  }

  /** The reads whose entry the scope drops. */
  matching(scope: Scope): Array<Promise<unknown>> {
    const out: Array<Promise<unknown>> = []
    for (const read of this.#reads) if (scope.all || touches(scope, read)) out.push(read.done)
    return out
  }
}

function touches(scope: Scope, read: Inflight): boolean {
  const id = read.id ?? ''
  switch (read.type) {
    case 'status':
      return scope.tasks.has(id)
    case 'progress':
    case 'execution':
      return scope.tasks.has(id) || scope.runs.has(id)
    case 'skaldTasks':
      return scope.allSkalds || scope.skalds.has(id)
    case 'list':
      return scope.lists
    case 'statistics':
      return scope.statistics
  }
}
