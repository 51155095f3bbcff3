// skalds/store/sqlite: the embedded engine, a SQLite file through node:sqlite (docs/store.md).
export { SqliteTaskStore, type SqliteTaskStoreOptions } from '../sqlite-task-store.ts'
