// Versioned schema of the SQLite task store. The applied version lives in `PRAGMA user_version`; each
// migration runs once, in its own transaction, in order. Never edit a released migration: append a new one.
import type { DatabaseSync } from 'node:sqlite'
import { StoreUnavailableError } from './errors.ts'

export interface SqliteMigration {
  version: number
  description: string
  sql: string
}

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
