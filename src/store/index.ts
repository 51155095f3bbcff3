// skalds/store: Disk Storage (docs/store.md): the TaskStore interface, its query types and errors, and
// openTaskStore(), which loads the configured engine on demand. SQLite and MongoDB have subpaths of their own
// (skalds/store/sqlite, skalds/store/mongodb), so importing this one loads neither.
export {
  TASK_SORT_FIELDS,
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  type TaskStore,
  type TaskFilter,
  type TaskSort,
  type TaskSortField,
  type TaskListQuery,
  type TaskPage,
  type TaskStamp,
  type TaskStampPage,
  type TaskUpdateOptions,
  type TaskClaimOptions,
  type StatusCounts,
  TIMELINE_MAX_ENTRIES,
  type TimelineEntry,
} from './task-store.ts'
export { TaskNotFoundError, TaskExistsError, TaskConflictError, TaskQueryError, StoreUnavailableError, StoreOptionsError } from './errors.ts'
export { openTaskStore, openTaskStoreFromEnv, type OpenTaskStoreOptions } from './open.ts'
export { ChaosTaskStore, STORE_OPERATIONS, STORE_READS, STORE_WRITES, type StoreOperation } from './chaos.ts'
