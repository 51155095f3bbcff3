// Query normalisation and compare-and-set checks shared by both TaskStore implementations.
import { LIFECYCLE_STATUSES, MODES, TaskLifecycleStatus, type ModeEnum } from '../model/enums.ts'
import type { Task } from '../model/task.ts'
import { TaskConflictError, TaskNotFoundError, TaskQueryError } from './errors.ts'
import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  TASK_SORT_FIELDS,
  type StatusCounts,
  type TaskClaimOptions,
  type TaskStore,
  type TaskFilter,
  type TaskListQuery,
  type TaskSort,
  type TaskSortField,
  type TaskStampPage,
  type TaskUpdateOptions,
} from './task-store.ts'

/** A filter with every condition checked and every list form turned into an array. */
export interface NormalFilter {
  lifecycleStatus?: TaskLifecycleStatus[]
  className?: string[]
  executor?: string | null
  mode?: ModeEnum[]
  text?: string
  createdFrom?: number
  updatedFrom?: number
}

export interface NormalQuery {
  filter: NormalFilter
  sort: { field: TaskSortField; direction: 'asc' | 'desc' }[]
  offset: number
  limit: number
}

function asArray<T>(value: T | readonly T[]): T[] {
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T]
}

/** The values once each, first occurrence first: a value listed twice must not match (or be expanded) twice. */
function uniqueArray<T>(value: T | readonly T[]): T[] {
  return [...new Set(asArray(value))]
}

function epochOption(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isSafeInteger(value)) throw new TaskQueryError(`${name}: expected an integer epoch-ms value, got ${String(value)}`)
  return value
}

export function normalizeFilter(filter: TaskFilter = {}): NormalFilter {
  const out: NormalFilter = {}
  if (filter.lifecycleStatus !== undefined) {
    out.lifecycleStatus = uniqueArray(filter.lifecycleStatus)
    for (const s of out.lifecycleStatus) {
      if (!LIFECYCLE_STATUSES.includes(s)) throw new TaskQueryError(`lifecycleStatus: unknown status ${JSON.stringify(s)} (known: ${LIFECYCLE_STATUSES.join(', ')})`)
    }
  }
  if (filter.mode !== undefined) {
    out.mode = uniqueArray(filter.mode)
    for (const m of out.mode) {
      if (!MODES.includes(m)) throw new TaskQueryError(`mode: unknown mode ${JSON.stringify(m)} (known: ${MODES.join(', ')})`)
    }
  }
  if (filter.className !== undefined) {
    out.className = uniqueArray(filter.className)
    for (const c of out.className) if (typeof c !== 'string') throw new TaskQueryError('className: expected strings')
  }
  if (filter.executor !== undefined) {
    if (filter.executor !== null && typeof filter.executor !== 'string') throw new TaskQueryError('executor: expected a string or null')
    out.executor = filter.executor
  }
  if (filter.text !== undefined && filter.text !== '') {
    if (typeof filter.text !== 'string') throw new TaskQueryError('text: expected a string')
    out.text = filter.text
  }
  const createdFrom = epochOption('createdFrom', filter.createdFrom)
  if (createdFrom !== undefined) out.createdFrom = createdFrom
  const updatedFrom = epochOption('updatedFrom', filter.updatedFrom)
  if (updatedFrom !== undefined) out.updatedFrom = updatedFrom
  return out
}

/** The validated arguments of changedSince. */
export function normalizeStampQuery(updatedFrom: number, page: TaskStampPage = {}): { updatedFrom: number; offset: number; limit: number } {
  const from = epochOption('updatedFrom', updatedFrom)
  if (from === undefined) throw new TaskQueryError('updatedFrom: expected an integer epoch-ms value, got undefined')
  const { offset, limit } = normalizeQuery({ ...(page.offset !== undefined ? { offset: page.offset } : {}), ...(page.limit !== undefined ? { limit: page.limit } : {}) })
  return { updatedFrom: from, offset, limit }
}

export function normalizeQuery(query: TaskListQuery = {}): NormalQuery {
  const offset = query.offset ?? 0
  if (!Number.isSafeInteger(offset) || offset < 0) throw new TaskQueryError(`offset: expected an integer ≥ 0, got ${String(offset)}`)
  const limit = query.limit ?? DEFAULT_LIST_LIMIT
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new TaskQueryError(`limit: expected an integer in 1..${MAX_LIST_LIMIT}, got ${String(limit)}`)
  }
  const requested: readonly TaskSort[] = query.sort === undefined ? [{ field: 'createDateTime', direction: 'desc' }] : asArray(query.sort)
  const sort: NormalQuery['sort'] = []
  for (const s of requested) {
    if (!TASK_SORT_FIELDS.includes(s.field)) throw new TaskQueryError(`sort.field: unknown field ${JSON.stringify(s.field)} (known: ${TASK_SORT_FIELDS.join(', ')})`)
    const direction = s.direction ?? 'asc'
    if (direction !== 'asc' && direction !== 'desc') throw new TaskQueryError(`sort.direction: expected asc or desc, got ${JSON.stringify(direction)}`)
    if (!sort.some((k) => k.field === s.field)) sort.push({ field: s.field, direction })
  }
  // `id` breaks ties in the last key's direction: then a sort and its exact reverse are one index read forwards
  // or backwards (`createDateTime desc, id desc` and `createDateTime asc, id asc` both on (createDateTime, id)), and
  // the dispatcher's `priority desc, createDateTime asc` takes equal tasks oldest first, then by id (asc).
  if (!sort.some((k) => k.field === 'id')) sort.push({ field: 'id', direction: sort.at(-1)?.direction ?? 'asc' })
  return { filter: normalizeFilter(query), sort, offset, limit }
}

/** The next compare-and-set token: wall-clock ms, but always past the previous one so every write moves it. */
export function nextUpdateDateTime(previous: number, now = Date.now()): number {
  return Math.max(now, previous + 1)
}

/** True when the caller asked for a compare-and-set (as opposed to a blind patch). */
export function isConditional(options: TaskUpdateOptions | undefined): boolean {
  return options !== undefined && (options.expectedUpdateDateTime !== undefined || options.expect !== undefined)
}

/** Whether `current` meets the caller's conditions (checkConditions without the error). */
export function meetsConditions(current: Task, options: TaskUpdateOptions | undefined): boolean {
  try {
    checkConditions(current, options)
    return true
  } catch (error) {
    if (error instanceof TaskConflictError) return false
    throw error
  }
}

/** Throws TaskConflictError when `current` does not meet the caller's conditions. */
export function checkConditions(current: Task, options: TaskUpdateOptions | undefined): void {
  if (!options) return
  if (options.expectedUpdateDateTime !== undefined && current.updateDateTime !== options.expectedUpdateDateTime) {
    throw new TaskConflictError(
      current.id,
      `updateDateTime is ${current.updateDateTime}, expected ${options.expectedUpdateDateTime} (changed since it was read)`,
      current,
    )
  }
  const expect = options.expect
  if (expect?.lifecycleStatus !== undefined) {
    const allowed = asArray(expect.lifecycleStatus)
    if (!allowed.includes(current.lifecycleStatus)) {
      throw new TaskConflictError(current.id, `lifecycleStatus is ${current.lifecycleStatus}, expected ${allowed.join(' or ')}`, current)
    }
  }
  if (expect?.executor !== undefined && current.executor !== expect.executor) {
    throw new TaskConflictError(current.id, `executor is ${JSON.stringify(current.executor)}, expected ${JSON.stringify(expect.executor)}`, current)
  }
  if (expect?.epoch !== undefined && current.runtime.epoch !== expect.epoch) {
    throw new TaskConflictError(current.id, `runtime.epoch is ${current.runtime.epoch}, expected ${expect.epoch} (ownership moved on)`, current)
  }
}

/**
 * The compare-and-set of an assignment: executor and status set, epoch raised by one, only if the epoch is still
 * the one read (and the status one of those expected). Without `expectEpoch` the current one is read first.
 */
export async function claimTask(store: TaskStore, id: string, options: TaskClaimOptions): Promise<Task> {
  if (typeof options.executor !== 'string' || options.executor === '') throw new TaskQueryError('claim.executor: expected a non-empty string')
  let epoch = options.expectEpoch
  if (epoch === undefined) {
    const current = await store.get(id)
    if (!current) throw new TaskNotFoundError(id)
    epoch = current.runtime.epoch
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new TaskQueryError(`claim.expectEpoch: expected an integer ≥ 0, got ${String(epoch)}`)
  const expect: NonNullable<TaskUpdateOptions['expect']> = { epoch }
  if (options.expectStatus !== undefined) expect.lifecycleStatus = options.expectStatus
  return store.update(
    id,
    { executor: options.executor, lifecycleStatus: options.lifecycleStatus ?? TaskLifecycleStatus.Assigning, runtime: { ...options.runtime, epoch: epoch + 1 } },
    { expect },
  )
}

export function emptyStatusCounts(): StatusCounts {
  return Object.fromEntries(LIFECYCLE_STATUSES.map((s) => [s, 0])) as StatusCounts
}

/** Escapes a user string for a SQL LIKE with `ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/**
 * Escapes a user string so a regular expression (JavaScript, also with the `u` flag, or the server's PCRE)
 * matches it literally. `-` is left alone: it is special only inside a character class, and `\-` is a
 * syntax error in JavaScript's unicode mode.
 */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** Upper bound of patch retries when a blind update keeps racing with other writers. */
export const MAX_BLIND_UPDATE_ATTEMPTS = 20
