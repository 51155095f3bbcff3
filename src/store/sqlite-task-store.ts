// TaskStore on one SQLite file through node:sqlite (no native addon): WAL, indexed columns, JSON attachments.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type { Task, TaskInput, TaskPatch } from '../model/task.ts'
import { applyTaskPatch, parseTask, parseTaskPatch } from '../model/task.ts'
import { StoreUnavailableError, TaskConflictError, TaskExistsError, TaskNotFoundError } from './errors.ts'
import { migrate } from './sqlite-migrations.ts'
import { checkConditions, claimTask, emptyStatusCounts, nextUpdateDateTime, normalizeFilter, normalizeQuery, normalizeStampQuery, type NormalFilter, type NormalQuery } from './query.ts'
import { resolveSqliteOptions, type SqliteTaskStoreOptions } from './options.ts'
import type { StatusCounts, TaskClaimOptions, TaskFilter, TaskListQuery, TaskPage, TaskStamp, TaskStampPage, TaskStore, TaskUpdateOptions, TimelineEntry } from './task-store.ts'
import { CHANGED_SINCE_SQL, listPageSql, PATCH_COLUMNS, rowToTask, runtimeToSql, statusOnly, whereClause, type Row } from './sqlite-sql.ts'
import { SqliteTimeline } from './sqlite-timeline.ts'
import { SqliteWriteBatch } from './sqlite-write-batch.ts'

export type { SqliteTaskStoreOptions } from './options.ts'

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
    this.#changedSince = db.prepare(CHANGED_SINCE_SQL)
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
        // one statement per chunk size: prepared here, kept out of the statement cache
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
      // One read transaction, so the page and the total come from the same snapshot.
      db.exec('BEGIN')
      try {
        return { items: this.#page(q), total: this.#count(q.filter), offset: q.offset, limit: q.limit }
      } finally {
        db.exec('COMMIT')
      }
    })
  }

  listItems(query: TaskListQuery = {}): Promise<Task[]> {
    return this.#run(() => {
      this.#open()
      return this.#page(normalizeQuery(query))
    })
  }

  #page(q: NormalQuery): Task[] {
    const page = listPageSql(q)
    return (this.#statement(page.sql).all(...page.params) as unknown as Row[]).map(rowToTask)
  }

  async changedSince(updatedFrom: number, page?: TaskStampPage): Promise<TaskStamp[]> {
    const q = normalizeStampQuery(updatedFrom, page)
    return this.#run(() => (this.#changedSince.all(q.updatedFrom, q.limit, q.offset) as unknown as TaskStamp[]).map((r) => ({ id: r.id, updateDateTime: r.updateDateTime })))
  }

  count(filter: TaskFilter = {}): Promise<number> {
    return this.#run(() => this.#count(normalizeFilter(filter)))
  }

  /** From the counts table when the filter is on status alone (a few rows), else an index count of the matches. */
  #count(filter: NormalFilter): number {
    this.#open()
    const statuses = statusOnly(filter)
    if (statuses !== undefined) {
      let n = 0
      for (const [s, count] of this.#countsTable()) if (statuses === 'all' || statuses.includes(s)) n += count
      return n
    }
    const where = whereClause(filter)
    return (this.#statement(`SELECT COUNT(*) AS n FROM tasks ${where.sql}`).get(...where.params) as { n: number }).n
  }

  #countsTable(): [string, number][] {
    return (this.#statusCounts.all() as { s: string; n: number }[]).map((r) => [r.s, r.n])
  }

  countByStatus(filter: TaskFilter = {}): Promise<StatusCounts> {
    return this.#run(() => {
      this.#open()
      const f = normalizeFilter(filter)
      const statuses = statusOnly(f)
      let rows: [string, number][]
      if (statuses !== undefined) {
        rows = this.#countsTable().filter(([s]) => statuses === 'all' || statuses.includes(s))
      } else {
        const where = whereClause(f)
        rows = (this.#statement(`SELECT lifecycle_status AS s, COUNT(*) AS n FROM tasks ${where.sql} GROUP BY lifecycle_status`).all(...where.params) as { s: string; n: number }[]).map(
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

