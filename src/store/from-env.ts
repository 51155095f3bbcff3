// Picks the Disk Storage engine from the environment: MongoDB when an address is given, else the SQLite file.
import { MongoTaskStore } from './mongo-task-store.ts'
import { SqliteTaskStore } from './sqlite-task-store.ts'
import type { TaskStore } from './task-store.ts'

/** The SQLite file used when no MongoDB address is given (relative to the working directory). */
export const DEFAULT_SQLITE_PATH = 'skalds.db'

/**
 * `MONGO_URL`, else Skalds' `MONGO_HOST` → {@link MongoTaskStore} on database `DB_NAME` (default `skalds`);
 * neither → {@link SqliteTaskStore} on `SKALDS_SQLITE_PATH` (default `skalds.db`).
 */
export async function openTaskStoreFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<TaskStore> {
  const url = env.MONGO_URL || env.MONGO_HOST
  if (url) {
    return MongoTaskStore.connect({ url, dbName: env.DB_NAME || undefined })
  }
  return SqliteTaskStore.open({ path: env.SKALDS_SQLITE_PATH || DEFAULT_SQLITE_PATH })
}
