// The System Controller's task caches (seed 001): cached task queries, their invalidation and statistics.
export { createTaskCaches } from './task-caches.ts'
export { cachedTaskReads, cleanupOperations } from './reads.ts'
export type { TaskCaches, TaskCacheCleanupReport } from './api.ts'
export {
  TASK_CACHE_TYPES,
  TASK_CACHE_DEFAULT_TTLS,
  TaskCacheOptionsError,
  TaskCacheArgumentError,
  type TaskCacheType,
  type TaskCacheTtls,
  type TaskCachesOptions,
} from './options.ts'
export { TASK_CHANGE_KINDS, type TaskChangeKind } from './invalidation.ts'
export { MAX_VIEW_LOG_LINES, type TaskProgressView, type TaskExecutionSummary, type TaskStatistics, type TaskStateSource } from './views.ts'
export type { TaskCacheStats, TaskCacheTypeStats, TaskCacheCounters, TaskCacheOwnCounters } from './stats.ts'
