// Disk Storage: the TaskStore interface and its SQLite (embedded) and MongoDB (Skalds' schema) implementations.
export * from './task-store.ts'
export * from './errors.ts'
export { SqliteTaskStore, type SqliteTaskStoreOptions } from './sqlite-task-store.ts'
export { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, type SqliteMigration } from './sqlite-migrations.ts'
export {
  MongoTaskStore,
  DEFAULT_COLLECTION_NAME,
  DEFAULT_DB_NAME,
  fromMongoDocument,
  toMongoDocument,
  type MongoTaskStoreOptions,
} from './mongo-task-store.ts'
export { openTaskStoreFromEnv, DEFAULT_SQLITE_PATH } from './from-env.ts'
export { escapeLike, escapeRegex } from './query.ts'
