// The SQLite store's SQL: columns of the tasks table, a row as a Task, WHERE clauses of a filter and the page query
// of a list (each shape served by one index read in order: docs/store.md).
import type { SQLInputValue } from 'node:sqlite'
import type { Task, TaskPatch, TaskRuntime } from '../model/task.ts'
import { isDefaultRuntime, readStoredTask } from '../model/task.ts'
import { escapeLike, normalizeQuery, type NormalFilter, type NormalQuery } from './query.ts'
import type { TaskListQuery, TaskSortField } from './task-store.ts'

const COLUMNS: Record<TaskSortField | 'name' | 'executor' | 'mode', string> = {
  createDateTime: 'create_date_time',
  updateDateTime: 'update_date_time',
  deadlineDateTime: 'deadline_date_time',
  priority: 'priority',
  id: 'id',
  className: 'class_name',
  lifecycleStatus: 'lifecycle_status',
  name: 'name',
  executor: 'executor',
  mode: 'mode',
}

/** Column name and SQL value of each patchable field. */
export const PATCH_COLUMNS: Record<Exclude<keyof TaskPatch, 'runtime'>, [string, (v: never) => SQLInputValue]> = {
  className: ['class_name', (v: string) => v],
  source: ['source', (v: string) => v],
  name: ['name', (v: string | null) => v],
  description: ['description', (v: string | null) => v],
  executor: ['executor', (v: string | null) => v],
  dependencies: ['dependencies', (v: string[] | null) => (v === null ? null : JSON.stringify(v))],
  mode: ['mode', (v: string) => v],
  isPersistent: ['is_persistent', (v: boolean) => (v ? 1 : 0)],
  deadlineDateTime: ['deadline_date_time', (v: number) => v],
  lifecycleStatus: ['lifecycle_status', (v: string) => v],
  priority: ['priority', (v: number) => v],
  attachments: ['attachments', (v: Record<string, unknown> | null) => (v === null ? null : JSON.stringify(v))],
}

export interface Row {
  id: string
  class_name: string
  source: string
  name: string | null
  description: string | null
  executor: string | null
  dependencies: string | null
  mode: string
  is_persistent: number
  create_date_time: number
  update_date_time: number
  deadline_date_time: number
  lifecycle_status: string
  priority: number
  attachments: string | null
  /** JSON of the TaskRuntime; null (rows written before schema v2, or default runtime) = defaults */
  runtime: string | null
}

/** Default runtimes are stored as NULL, like a Mongo document without `runtime`. */
export function runtimeToSql(runtime: TaskRuntime): string | null {
  return isDefaultRuntime(runtime) ? null : JSON.stringify(runtime)
}

export function rowToTask(row: Row): Task {
  return readStoredTask({
    id: row.id,
    className: row.class_name,
    source: row.source,
    name: row.name,
    description: row.description,
    executor: row.executor,
    dependencies: row.dependencies === null ? null : (JSON.parse(row.dependencies) as unknown),
    mode: row.mode,
    isPersistent: row.is_persistent !== 0,
    createDateTime: row.create_date_time,
    updateDateTime: row.update_date_time,
    deadlineDateTime: row.deadline_date_time,
    lifecycleStatus: row.lifecycle_status,
    priority: row.priority,
    attachments: row.attachments === null ? null : (JSON.parse(row.attachments) as unknown),
    runtime: row.runtime === null ? null : (JSON.parse(row.runtime) as unknown),
  })
}

export function whereClause(filter: NormalFilter): { sql: string; params: SQLInputValue[] } {
  const parts: string[] = []
  const params: SQLInputValue[] = []
  const inList = (column: string, values: readonly string[]): void => {
    if (values.length === 0) {
      parts.push('0')
      return
    }
    parts.push(`${column} IN (${values.map(() => '?').join(', ')})`)
    params.push(...values)
  }
  if (filter.lifecycleStatus) inList('lifecycle_status', filter.lifecycleStatus)
  if (filter.mode) inList('mode', filter.mode)
  if (filter.className) inList('class_name', filter.className)
  if (filter.executor !== undefined) {
    if (filter.executor === null) parts.push('executor IS NULL')
    else {
      parts.push('executor = ?')
      params.push(filter.executor)
    }
  }
  if (filter.text !== undefined) {
    // LIKE with an explicit escape character: the user's %, _ and \ match themselves.
    const pattern = `%${escapeLike(filter.text)}%`
    parts.push(`(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')`)
    params.push(pattern, pattern)
  }
  if (filter.createdFrom !== undefined) {
    parts.push('create_date_time >= ?')
    params.push(filter.createdFrom)
  }
  if (filter.updatedFrom !== undefined) {
    parts.push('update_date_time >= ?')
    params.push(filter.updatedFrom)
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params }
}

interface Sql {
  sql: string
  params: SQLInputValue[]
}

/**
 * Above this many combinations a page keeps the `IN` lists (SQLite then sorts, reading at most offset + limit
 * rows per value) instead of one index range per combination.
 */
const MAX_LIST_ARMS = 32

/**
 * The filter split into one filter per combination of its list values (status × class × mode), or undefined
 * when there is at most one combination, or too many.
 */
function listArms(filter: NormalFilter): NormalFilter[] | undefined {
  const lists = (['lifecycleStatus', 'className', 'mode'] as const).filter((k) => (filter[k]?.length ?? 0) > 1)
  const combinations = lists.reduce((n, k) => n * filter[k]!.length, 1)
  if (lists.length === 0 || combinations > MAX_LIST_ARMS) return undefined
  let arms: NormalFilter[] = [filter]
  for (const key of lists) {
    arms = arms.flatMap((arm) => (filter[key] as string[]).map((value) => ({ ...arm, [key]: [value] })))
  }
  return arms
}

/**
 * The SELECT of a list page. With several statuses (or classes, or modes) it is a UNION ALL of one SELECT per
 * value, each an ordered range of one index, under one ORDER BY: SQLite merges the ordered arms and stops at
 * offset + limit rows, where `IN (…)` would collect every arm's rows into a temporary b-tree to sort them.
 * Exported for the query-plan tests; not part of the package API.
 */
export function sqliteListPageSql(query: TaskListQuery = {}): Sql {
  return listPageSql(normalizeQuery(query))
}

export function listPageSql(q: NormalQuery): Sql {
  const order = q.sort.map((s) => `${COLUMNS[s.field]} ${s.direction === 'desc' ? 'DESC' : 'ASC'}`).join(', ')
  const arms = (listArms(q.filter) ?? [q.filter]).map(whereClause)
  return {
    sql: `${arms.map((w) => `SELECT * FROM tasks ${w.sql}`).join(' UNION ALL ')} ORDER BY ${order} LIMIT ? OFFSET ?`,
    params: [...arms.flatMap((w) => w.params), q.limit, q.offset],
  }
}

/**
 * The statuses a filter restricts to when status is its only condition (`'all'`: no condition at all), else
 * undefined: exactly the filters that the per-status counts table answers.
 */
export function statusOnly(filter: NormalFilter): readonly string[] | 'all' | undefined {
  const keys = Object.keys(filter)
  if (keys.length === 0) return 'all'
  return keys.length === 1 && filter.lifecycleStatus ? filter.lifecycleStatus : undefined
}

/** The stamps of changedSince: the (update_date_time, id) index alone answers it, rows unread. */
export const CHANGED_SINCE_SQL = 'SELECT id, update_date_time AS updateDateTime FROM tasks WHERE update_date_time >= ? ORDER BY update_date_time, id LIMIT ? OFFSET ?'
