// The task caches' public interface: what createTaskCaches() returns.
import type { Task } from '../../model/task.ts'
import type { TaskListQuery, TaskPage } from '../../store/task-store.ts'
import type { TaskChange } from '../task-reads.ts'
import type { TaskCacheTtls } from './options.ts'
import type { TaskCacheStats } from './stats.ts'
import type { TaskExecutionSummary, TaskProgressView, TaskStatistics } from './views.ts'

/** What one run of the cleanup job did. */
export interface TaskCacheCleanupReport {
  /** the list pages and their tag set were dropped (no change had dropped them for a whole interval) */
  droppedListPages: boolean
  /** a pending flush was run (and whether it succeeded) */
  flush: 'none' | 'succeeded' | 'failed'
  stats: TaskCacheStats
}

export interface TaskCaches {
  /** the TTLs in force per cache type, ms */
  readonly ttls: Readonly<TaskCacheTtls>
  /** the CacheService namespace of every key (e.g. `cache:skalds-task-cache`); undefined without a cache */
  readonly namespace: string | undefined
  /** The stored task, or null when there is none. */
  task(id: string): Promise<Task | null>
  /** The run's progress (from the Skald state) with the task's runtime; null when the task does not exist. */
  progress(id: string): Promise<TaskProgressView | null>
  /** Tasks per status, total and class names. */
  statistics(): Promise<TaskStatistics>
  /** One page of a query, as `TaskStore.list`. A query the store would refuse throws TaskQueryError. */
  list(query?: TaskListQuery): Promise<TaskPage>
  /** The newest `skaldTasksLimit` tasks whose executor is this Skald (newest first); `total` counts them all. */
  skaldTasks(skaldId: string): Promise<TaskPage>
  /** One run at a glance; null when the task does not exist. */
  execution(id: string): Promise<TaskExecutionSummary | null>
  /** Drops what the change made stale. Resolves true when Redis confirmed it, false otherwise; never rejects for Redis. */
  changed(change: TaskChange): Promise<boolean>
  /** Several changes as one drop (the lists and statistics once): what a burst of store changes costs. */
  changedMany(changes: readonly TaskChange[]): Promise<boolean>
  /** Drops every entry of the task caches (all controllers'). */
  invalidateAll(): Promise<boolean>
  /** Drops the task's own entries (status, progress, execution); lists and statistics stay (use `changed` for them). */
  invalidateTask(id: string): Promise<boolean>
  /** Drops the Skald's task list. */
  invalidateSkald(skaldId: string): Promise<boolean>
  /** Reads the statistics and the first page of the default list into the cache. */
  warmUp(): Promise<void>
  /** Starts the cleanup job every `cleanupIntervalMs` (idempotent; the timer does not keep the process alive). */
  startCleanup(): void
  /** One run of the cleanup job. */
  cleanup(): Promise<TaskCacheCleanupReport>
  /** Stops the cleanup job and the delayed invalidations (a pending one is run first). Reads keep working. */
  stop(): Promise<void>
  /** Keys, hit rates, memory and connection state. Never rejects. */
  cacheStats(): Promise<TaskCacheStats>
}
