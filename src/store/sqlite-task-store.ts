// TaskStore on one SQLite file through node:sqlite (no native addon): WAL, indexed columns, JSON attachments.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type { Task, TaskInput, TaskPatch, TaskRuntime } from '../model/task.ts'
import { applyTaskPatch, isDefaultRuntime, parseTask, parseTaskPatch, readStoredTask } from '../model/task.ts'
import { StoreUnavailableError, TaskConflictError, TaskExistsError, TaskNotFoundError } from './errors.ts'
import { migrate } from './sqlite-migrations.ts'
import {
  checkConditions,
  claimTask,
  emptyStatusCounts,
  escapeLike,
  nextUpdateDateTime,
  normalizeFilter,
  normalizeQuery,
  normalizeStampQuery,
  type NormalFilter,
  type NormalQuery,
} from './query.ts'
import { resolveSqliteOptions, type SqliteTaskStoreOptions } from './options.ts'
import type { StatusCounts, TaskClaimOptions, TaskFilter, TaskListQuery, TaskPage, TaskSortField, TaskStamp, TaskStampPage, TaskStore, TaskUpdateOptions, TimelineEntry } from './task-store.ts'
import { SqliteTimeline } from './sqlite-timeline.ts'
import { SqliteWriteBatch } from './sqlite-write-batch.ts'

export type { SqliteTaskStoreOptions } from './options.ts'

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
const PATCH_COLUMNS: Record<Exclude<keyof TaskPatch, 'runtime'>, [string, (v: never) => SQLInputValue]> = {
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

interface Row {
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
function runtimeToSql(runtime: TaskRuntime): string | null {
  return isDefaultRuntime(runtime) ? null : JSON.stringify(runtime)
}

function rowToTask(row: Row): Task {
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

function whereClause(filter: NormalFilter): { sql: string; params: SQLInputValue[] } {
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

function listPageSql(q: NormalQuery): Sql {
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
function statusOnly(filter: NormalFilter): readonly string[] | 'all' | undefined {
  const keys = Object.keys(filter)
  if (keys.length === 0) return 'all'
  return keys.length === 1 && filter.lifecycleStatus ? filter.lifecycleStatus : undefined
}

export class SqliteTaskStore implements TaskStore {
  readonly kind = 'sqlite'
  /** the file's triggers (migration 4) record every write, from any process */
  readonly timelineRecordsEveryWriter = true
  readonly path: string
  #db: DatabaseSync | undefined
  #insert: StatementSync
  #get: StatementSync
  #delete: StatementSync
  #statusCounts: StatementSync
  #changedSince: StatementSync
  #classNames: StatementSync
  #timeline: SqliteTimeline
  /** prepared statements by their text: an update's SET list depends on the patch's fields, a handful of shapes */
  readonly #statements = new Map<string, StatementSync>()
  readonly #batch: SqliteWriteBatch
  #closing = false

  /** Opens (creating if needed) the database file and applies pending schema migrations. */
  static open(options: SqliteTaskStoreOptions): SqliteTaskStore {
    return new SqliteTaskStore(options)
  }

  private constructor(input: SqliteTaskStoreOptions) {
    const options = resolveSqliteOptions(input)
    this.path = options.path
    this.#batch = new SqliteWriteBatch(() => this.#open(), options.busyTimeoutMs)
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs })
    this.#db = db
    try {
      if (options.path !== ':memory:') db.exec('PRAGMA journal_mode = WAL')
      db.exec(`PRAGMA synchronous = ${options.synchronous}`)
      migrate(db)
      // From here on a busy file is waited for off the event loop (sqlite-busy.ts); opening and migrating above
      // may block, once, at start.
      db.exec('PRAGMA busy_timeout = 0')
    } catch (error) {
      db.close()
      throw error instanceof StoreUnavailableError
        ? error
        : new StoreUnavailableError(`sqlite: cannot open ${options.path}: ${(error as Error).message}`, { cause: error })
    }
    this.#insert = db.prepare(
      `INSERT INTO tasks (id, class_name, source, name, description, executor, dependencies, mode, is_persistent,
         create_date_time, update_date_time, deadline_date_time, lifecycle_status, priority, attachments, runtime)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#get = db.prepare('SELECT * FROM tasks WHERE id = ?')
    this.#delete = db.prepare('DELETE FROM tasks WHERE id = ?')
    this.#timeline = new SqliteTimeline(db)
    this.#statusCounts = db.prepare('SELECT lifecycle_status AS s, n FROM task_status_counts')
    this.#changedSince = db.prepare('SELECT id, update_date_time AS updateDateTime FROM tasks WHERE update_date_time >= ? ORDER BY update_date_time, id LIMIT ? OFFSET ?')
    // A skip scan: each step is the smallest class name above the previous one, one index seek per distinct name
    // instead of a walk over every row's entry.
    this.#classNames = db.prepare(
      `WITH RECURSIVE names(c) AS (
         SELECT MIN(class_name) FROM tasks WHERE class_name > ''
         UNION ALL
         SELECT (SELECT MIN(class_name) FROM tasks WHERE class_name > names.c) FROM names WHERE names.c IS NOT NULL
       )
       SELECT c FROM names WHERE c IS NOT NULL`,
    )
  }

  #open(): DatabaseSync {
    if (!this.#db) throw this.#closedError()
    return this.#db
  }

  async create(input: TaskInput): Promise<Task> {
    // Validated before it queues: bad input never waits for, or takes part in, a commit.
    const t = parseTask(input)
    return this.#write(() => {
      this.#open()
      try {
        this.#insert.run(
          t.id,
          t.className,
          t.source,
          t.name,
          t.description,
          t.executor,
          t.dependencies === null ? null : JSON.stringify(t.dependencies),
          t.mode,
          t.isPersistent ? 1 : 0,
          t.createDateTime,
          t.updateDateTime,
          t.deadlineDateTime,
          t.lifecycleStatus,
          t.priority,
          t.attachments === null ? null : JSON.stringify(t.attachments),
          runtimeToSql(t.runtime),
        )
      } catch (error) {
        if ((error as { errcode?: number }).errcode === 1555) throw new TaskExistsError(t.id, { cause: error })
        throw error
      }
      return t
    })
  }

  get(id: string): Promise<Task | null> {
    return this.#run(() => {
      this.#open()
      const row = this.#get.get(id) as Row | undefined
      return row ? rowToTask(row) : null
    })
  }

  getMany(ids: readonly string[]): Promise<Task[]> {
    return this.#run(() => {
      const db = this.#open()
      const unique = [...new Set(ids)]
      const found = new Map<string, Task>()
      for (let i = 0; i < unique.length; i += 500) {
        const chunk = unique.slice(i, i + 500)
        const rows = db.prepare(`SELECT * FROM tasks WHERE id IN (${chunk.map(() => '?').join(', ')})`).all(...chunk) as unknown as Row[]
        for (const row of rows) found.set(row.id, rowToTask(row))
      }
      return unique.flatMap((id) => found.get(id) ?? [])
    })
  }

  async update(id: string, patch: TaskPatch, options?: TaskUpdateOptions): Promise<Task> {
    const p = parseTaskPatch(patch)
    // In the group commit's transaction (BEGIN IMMEDIATE: the write lock is held before the read), so
    // read-check-write is atomic across processes.
    return this.#write(() => {
      this.#open()
      const row = this.#get.get(id) as Row | undefined
      if (!row) throw new TaskNotFoundError(id)
      const current = rowToTask(row)
      checkConditions(current, options)
      const updateDateTime = nextUpdateDateTime(current.updateDateTime)
      const next = applyTaskPatch(current, p, updateDateTime)
      const sets = ['update_date_time = ?']
      const params: SQLInputValue[] = [updateDateTime]
      const { runtime, ...fields } = p
      for (const [field, value] of Object.entries(fields) as [Exclude<keyof TaskPatch, 'runtime'>, never][]) {
        const [column, toSql] = PATCH_COLUMNS[field]
        sets.push(`${column} = ?`)
        params.push(toSql(value))
      }
      // The whole runtime is rewritten from the merged value: the write lock makes read-merge-write atomic.
      if (runtime) {
        sets.push('runtime = ?')
        params.push(runtimeToSql(next.runtime))
      }
      const result = this.#statement(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ? AND update_date_time = ?`).run(...params, id, current.updateDateTime)
      if (Number(result.changes) !== 1) throw new TaskConflictError(id, 'changed during the update', current)
      return next
    })
  }

  claim(id: string, options: TaskClaimOptions): Promise<Task> {
    return claimTask(this, id, options)
  }

  list(query: TaskListQuery = {}): Promise<TaskPage> {
    return this.#run(() => {
      const db = this.#open()
      const q = normalizeQuery(query)
      const page = listPageSql(q)
      // One read transaction, so the page and the total come from the same snapshot.
      db.exec('BEGIN')
      try {
        const rows = db.prepare(page.sql).all(...page.params) as unknown as Row[]
        return { items: rows.map(rowToTask), total: this.#count(q.filter), offset: q.offset, limit: q.limit }
      } finally {
        db.exec('COMMIT')
      }
    })
  }

  async changedSince(updatedFrom: number, page?: TaskStampPage): Promise<TaskStamp[]> {
    const q = normalizeStampQuery(updatedFrom, page)
    // tasks_updated (update_date_time, id) covers it: the rows themselves are not read.
    return this.#run(() => (this.#changedSince.all(q.updatedFrom, q.limit, q.offset) as unknown as TaskStamp[]).map((r) => ({ id: r.id, updateDateTime: r.updateDateTime })))
  }

  count(filter: TaskFilter = {}): Promise<number> {
    return this.#run(() => this.#count(normalizeFilter(filter)))
  }

  /** From the counts table when the filter is on status alone (a few rows), else an index count of the matches. */
  #count(filter: NormalFilter): number {
    const db = this.#open()
    const statuses = statusOnly(filter)
    if (statuses !== undefined) {
      let n = 0
      for (const [s, count] of this.#countsTable()) if (statuses === 'all' || statuses.includes(s)) n += count
      return n
    }
    const where = whereClause(filter)
    return (db.prepare(`SELECT COUNT(*) AS n FROM tasks ${where.sql}`).get(...where.params) as { n: number }).n
  }

  #countsTable(): [string, number][] {
    return (this.#statusCounts.all() as { s: string; n: number }[]).map((r) => [r.s, r.n])
  }

  countByStatus(filter: TaskFilter = {}): Promise<StatusCounts> {
    return this.#run(() => {
      const db = this.#open()
      const f = normalizeFilter(filter)
      const statuses = statusOnly(f)
      let rows: [string, number][]
      if (statuses !== undefined) {
        rows = this.#countsTable().filter(([s]) => statuses === 'all' || statuses.includes(s))
      } else {
        const where = whereClause(f)
        rows = (db.prepare(`SELECT lifecycle_status AS s, COUNT(*) AS n FROM tasks ${where.sql} GROUP BY lifecycle_status`).all(...where.params) as { s: string; n: number }[]).map(
          (r) => [r.s, r.n],
        )
      }
      const counts = emptyStatusCounts()
      for (const [s, n] of rows) if (s in counts) counts[s as keyof StatusCounts] += n
      return counts
    })
  }

  distinctClassNames(): Promise<string[]> {
    return this.#run(() => {
      this.#open()
      return (this.#classNames.all() as { c: string }[]).map((r) => r.c)
    })
  }

  appendTimeline(entries: readonly TimelineEntry[]): Promise<void> {
    return this.#write(() => {
      this.#open()
      this.#timeline.append(entries)
    })
  }

  timeline(taskId: string, limit?: number): Promise<TimelineEntry[]> {
    return this.#run(() => {
      this.#open()
      return this.#timeline.read(taskId, limit)
    })
  }

  delete(id: string): Promise<boolean> {
    return this.#write(() => {
      this.#open()
      return Number(this.#delete.run(id).changes) > 0
    })
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql)
    if (!statement) {
      statement = this.#open().prepare(sql)
      if (this.#statements.size < 200) this.#statements.set(sql, statement)
    }
    return statement
  }

  /** Runs synchronous SQLite reads behind the async interface; a busy file is retried (sqlite-busy.ts). */
  #run<T>(work: () => T): Promise<T> {
    if (this.#closing) return Promise.reject(this.#closedError())
    return this.#batch.read(work)
  }

  /** Runs a write in the next group commit (sqlite-write-batch.ts). */
  #write<T>(work: () => T): Promise<T> {
    if (this.#closing) return Promise.reject(this.#closedError())
    return this.#batch.write(work)
  }

  #closedError(): StoreUnavailableError {
    return new StoreUnavailableError(`sqlite: the store on ${this.path} is closed`)
  }

  /** Refuses what is asked from now on, answers the operations already asked for, then closes the file. */
  close(): Promise<void> {
    this.#closing = true
    const shut = (): void => {
      if (this.#db?.isOpen) this.#db.close()
      this.#db = undefined
    }
    if (this.#batch.idle) {
      shut()
      return Promise.resolve()
    }
    return this.#batch.settled().then(shut)
  }
}

