// openTaskStore(): the engine that the configuration names, loaded on demand so that an embedded process never
// loads the MongoDB driver, and a distributed one never opens node:sqlite.
import { loadConfig, type LoadConfigOptions, type StoreEnvConfig } from '../config/env.ts'
import type { MongoTaskStoreOptions } from './mongo-task-store.ts'
import type { SqliteTaskStoreOptions } from './sqlite-task-store.ts'
import type { TaskStore } from './task-store.ts'

/** Tuning of each engine; only the chosen engine's part is used. */
export interface OpenTaskStoreOptions {
  sqlite?: Omit<SqliteTaskStoreOptions, 'path'>
  mongodb?: Omit<MongoTaskStoreOptions, 'url' | 'client' | 'dbName'>
}

/**
 * Opens the store `config` names (`loadConfig().store`): MongoDB at `url` on database `dbName`, or the SQLite file
 * at `path`.
 */
export async function openTaskStore(config: StoreEnvConfig, options: OpenTaskStoreOptions = {}): Promise<TaskStore> {
  if (config.engine === 'mongodb') {
    const { MongoTaskStore } = await import('./mongo-task-store.ts')
    return MongoTaskStore.connect({ ...options.mongodb, url: config.url, dbName: config.dbName })
  }
  const { SqliteTaskStore } = await import('./sqlite-task-store.ts')
  return SqliteTaskStore.open({ ...options.sqlite, path: config.path })
}

/**
 * `openTaskStore(loadConfig(options).store)`: `MONGO_URL`, else Skalds' `MONGO_HOST` → MongoDB on `DB_NAME`
 * (default `skalds`); neither → SQLite on `SKALDS_SQLITE_PATH` (default `skalds.db`). Reads `.env` as loadConfig does.
 */
export async function openTaskStoreFromEnv(options: LoadConfigOptions = {}): Promise<TaskStore> {
  return openTaskStore(loadConfig(options).store)
}
