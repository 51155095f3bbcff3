// Versioned schema of the SQLite task store. The applied version lives in `PRAGMA user_version`; each
// migration runs once, in its own transaction, in order. Never edit a released migration: append a new one.
import type { DatabaseSync } from 'node:sqlite'
import { StoreUnavailableError } from './errors.ts'

export interface SqliteMigration {
  version: number
  description: string
  sql: string
}

/** The timeline row of the task a trigger sees as NEW (its status, node, attempt and, when Failed, its error). */
const TIMELINE_ENTRY_OF_NEW = `INSERT OR IGNORE INTO task_timeline (task_id, at, lifecycle_status, executor, attempt, message) VALUES (
          NEW.id, NEW.update_date_time, NEW.lifecycle_status, NEW.executor,
          COALESCE(json_extract(NEW.runtime, '$.attempt'), 0),
          CASE WHEN NEW.lifecycle_status = 'Failed' THEN
            CASE WHEN length(json_extract(NEW.runtime, '$.lastError')) > 1024
              THEN substr(json_extract(NEW.runtime, '$.lastError'), 1, 1023) || '…'
              ELSE json_extract(NEW.runtime, '$.lastError') END
          END);`

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'tasks table (one column per Task field; JSON text for dependencies and attachments) and query indexes',
    sql: `
      CREATE TABLE tasks (
        id                 TEXT    NOT NULL PRIMARY KEY,
        class_name         TEXT    NOT NULL,
        source             TEXT    NOT NULL,
        name               TEXT,
        description        TEXT,
        executor           TEXT,
        dependencies       TEXT,
        mode               TEXT    NOT NULL,
        is_persistent      INTEGER NOT NULL,
        create_date_time   INTEGER NOT NULL,
        update_date_time   INTEGER NOT NULL,
        deadline_date_time INTEGER NOT NULL,
        lifecycle_status   TEXT    NOT NULL,
        priority           INTEGER NOT NULL,
        attachments        TEXT
      ) STRICT;
      -- dispatcher / monitor: status + mode; REST: className, executor; lists sort on the timestamps
      CREATE INDEX tasks_status_mode ON tasks (lifecycle_status, mode);
      CREATE INDEX tasks_mode ON tasks (mode);
      CREATE INDEX tasks_class_name ON tasks (class_name);
      CREATE INDEX tasks_executor ON tasks (executor);
      CREATE INDEX tasks_create_date_time ON tasks (create_date_time);
      CREATE INDEX tasks_update_date_time ON tasks (update_date_time);
    `,
  },
  {
    version: 2,
    description: 'runtime column: the TS-only runtime state (epoch, attempt, maxRetries, checkpoint, lastError, pausedAt) as JSON text; NULL = defaults',
    sql: `ALTER TABLE tasks ADD COLUMN runtime TEXT;`,
  },
  {
    version: 3,
    description: 'indexes that serve a filter and its sort together (reads stay flat as the table grows); per-status counts kept by triggers',
    sql: `
      -- Each list index is (equality filter columns…, sort column, id): a page is a range of one index read in
      -- order and stopped after offset + limit rows, never a sort of every match. id is the tie-break, in the sort
      -- key's direction, so one index serves a sort read forwards and its reverse read backwards.
      CREATE INDEX tasks_created ON tasks (create_date_time, id);
      CREATE INDEX tasks_status_created ON tasks (lifecycle_status, create_date_time, id);
      CREATE INDEX tasks_class_created ON tasks (class_name, create_date_time, id);
      CREATE INDEX tasks_class_status_created ON tasks (class_name, lifecycle_status, create_date_time, id);
      CREATE INDEX tasks_executor_created ON tasks (executor, create_date_time, id);
      CREATE INDEX tasks_mode_created ON tasks (mode, create_date_time, id);
      -- the change feed: updatedFrom, oldest change first
      CREATE INDEX tasks_updated ON tasks (update_date_time, id);
      -- the dispatcher: Created + Passive, priority desc then createDateTime asc (tie-break: id asc, the last key's)
      CREATE INDEX tasks_dispatch ON tasks (lifecycle_status, mode, priority DESC, create_date_time, id);
      -- every one of these is a leading prefix of an index above
      DROP INDEX tasks_create_date_time;
      DROP INDEX tasks_update_date_time;
      DROP INDEX tasks_class_name;
      DROP INDEX tasks_executor;
      DROP INDEX tasks_mode;
      DROP INDEX tasks_status_mode;

      -- Tasks per status, kept exact by triggers in the writer's own transaction (every writer of the file, this
      -- library or not, fires them): counting by status reads a handful of rows instead of the table.
      CREATE TABLE task_status_counts (
        lifecycle_status TEXT    NOT NULL PRIMARY KEY,
        n                INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT INTO task_status_counts (lifecycle_status, n) SELECT lifecycle_status, COUNT(*) FROM tasks GROUP BY lifecycle_status;
      CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_status_counts (lifecycle_status, n) VALUES (NEW.lifecycle_status, 1)
          ON CONFLICT (lifecycle_status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_status_counts SET n = n - 1 WHERE lifecycle_status = OLD.lifecycle_status;
      END;
      CREATE TRIGGER tasks_count_status AFTER UPDATE OF lifecycle_status ON tasks
        WHEN OLD.lifecycle_status IS NOT NEW.lifecycle_status
      BEGIN
        UPDATE task_status_counts SET n = n - 1 WHERE lifecycle_status = OLD.lifecycle_status;
        INSERT INTO task_status_counts (lifecycle_status, n) VALUES (NEW.lifecycle_status, 1)
          ON CONFLICT (lifecycle_status) DO UPDATE SET n = n + 1;
      END;
    `,
  },
  {
    version: 4,
    description: 'task_timeline: each task\'s changes of status and node, recorded by triggers (status, node, attempt)',
    sql: `
      CREATE TABLE task_timeline (
        task_id          TEXT    NOT NULL,
        at               INTEGER NOT NULL,
        lifecycle_status TEXT    NOT NULL,
        executor         TEXT,
        attempt          INTEGER NOT NULL,
        message          TEXT,
        PRIMARY KEY (task_id, at, lifecycle_status)
      ) STRICT, WITHOUT ROWID;
      -- Every writer of the file records its changes (this library or not, in its own transaction): a new task,
      -- and each change of status or node. A task back to Created (a new attempt) is cut to its newest 200.
      CREATE TRIGGER tasks_timeline_insert AFTER INSERT ON tasks BEGIN
        ${TIMELINE_ENTRY_OF_NEW}
      END;
      CREATE TRIGGER tasks_timeline_update AFTER UPDATE OF lifecycle_status, executor ON tasks
        WHEN OLD.lifecycle_status IS NOT NEW.lifecycle_status OR OLD.executor IS NOT NEW.executor
      BEGIN
        ${TIMELINE_ENTRY_OF_NEW}
        DELETE FROM task_timeline WHERE NEW.lifecycle_status = 'Created' AND task_id = NEW.id AND at < (
          SELECT at FROM task_timeline WHERE task_id = NEW.id ORDER BY at DESC LIMIT 1 OFFSET 199);
      END;
      -- A deleted task takes its timeline with it, whoever deletes it.
      CREATE TRIGGER tasks_timeline_delete AFTER DELETE ON tasks BEGIN
        DELETE FROM task_timeline WHERE task_id = OLD.id;
      END;
    `,
  },
]

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.at(-1)?.version ?? 0

/** Brings the database to the latest schema; returns the versions applied. Refuses a newer schema than known. */
export function migrate(db: DatabaseSync): number[] {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined
  const current = row?.user_version ?? 0
  if (current > SQLITE_SCHEMA_VERSION) {
    throw new StoreUnavailableError(
      `sqlite: the database schema is version ${current}, newer than this library knows (${SQLITE_SCHEMA_VERSION}); upgrade skalds`,
    )
  }
  const applied: number[] = []
  for (const m of SQLITE_MIGRATIONS) {
    if (m.version <= current) continue
    db.exec('BEGIN IMMEDIATE')
    try {
      // Re-check under the write lock: another process may have migrated meanwhile.
      const now = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
      if (now < m.version) {
        db.exec(m.sql)
        db.exec(`PRAGMA user_version = ${m.version}`)
        applied.push(m.version)
      }
      db.exec('COMMIT')
    } catch (error) {
      db.exec('ROLLBACK')
      throw new StoreUnavailableError(`sqlite: migration ${m.version} (${m.description}) failed: ${(error as Error).message}`, { cause: error })
    }
  }
  return applied
}
