// Tasks' timelines in the SQLite file (table `task_timeline`, migration 4): one row per state change, keyed by
// (task, at, status) so a change recorded twice is kept once.
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { TaskLifecycleStatus } from '../model/enums.ts'
import { TIMELINE_MAX_ENTRIES, type TimelineEntry } from './task-store.ts'
import { checkTimelineEntries, tasksToPrune, timelineLimit } from './timeline.ts'

interface TimelineRow {
  task_id: string
  at: number
  lifecycle_status: string
  executor: string | null
  attempt: number
  message: string | null
}

export class SqliteTimeline {
  readonly #insert: StatementSync
  readonly #prune: StatementSync
  readonly #read: StatementSync

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare(
      `INSERT INTO task_timeline (task_id, at, lifecycle_status, executor, attempt, message) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    )
    // Everything older than the task's TIMELINE_MAX_ENTRIES-th newest entry.
    this.#prune = db.prepare(
      `DELETE FROM task_timeline WHERE task_id = ?1 AND at < (
         SELECT at FROM task_timeline WHERE task_id = ?1 ORDER BY at DESC LIMIT 1 OFFSET ${TIMELINE_MAX_ENTRIES - 1})`,
    )
    this.#read = db.prepare('SELECT * FROM task_timeline WHERE task_id = ? ORDER BY at DESC, lifecycle_status DESC LIMIT ?')
  }

  /** Inserts the entries; the caller runs it in a transaction (the store's group commit, a savepoint per call). */
  append(entries: readonly TimelineEntry[]): void {
    const checked = checkTimelineEntries(entries)
    for (const e of checked) this.#insert.run(e.taskId, e.at, e.lifecycleStatus, e.executor, e.attempt, e.message)
    for (const id of tasksToPrune(checked)) this.#prune.run(id)
  }

  read(taskId: string, limit: number | undefined): TimelineEntry[] {
    const rows = this.#read.all(taskId, timelineLimit(limit)) as unknown as TimelineRow[]
    return rows.reverse().map((r) => ({
      taskId: r.task_id,
      at: Number(r.at),
      lifecycleStatus: r.lifecycle_status as TaskLifecycleStatus,
      executor: r.executor,
      attempt: Number(r.attempt),
      message: r.message,
    }))
  }
}
