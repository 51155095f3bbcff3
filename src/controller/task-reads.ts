// The controller's task reads as one seam: straight from the store, or through the task caches (seed 001), and the
// changes that must drop what is cached. The API, the metrics and the composition read through it.
import type { Task } from '../model/task.ts'
import type { StatusCounts, TaskListQuery, TaskPage, TaskStore } from '../store/task-store.ts'

/** A change the API made or saw, so cached reads of it are dropped (here and in every other controller). */
export interface TaskChange {
  id: string
  kind: 'created' | 'status' | 'attachments' | 'cancelled' | 'deleted' | 'progress'
  executor?: string | null
  previousExecutor?: string | null
}

/** The reads the API serves: straight from the store, or through the task caches (seed 001). */
export interface TaskReads {
  task(id: string): Promise<Task | null>
  list(query: TaskListQuery): Promise<TaskPage>
  countByStatus(): Promise<StatusCounts>
  classNames(): Promise<string[]>
  /** the tasks whose executor is this Skald */
  skaldTasks(skaldId: string): Promise<Task[]>
  /** drop what is cached about this change; never throws */
  changed(change: TaskChange): Promise<void>
  /** several changes at once (a burst the change feed saw): one drop of the lists and statistics */
  changedMany(changes: readonly TaskChange[]): Promise<void>
}

/** The reads straight from the store: no caching. */
export function storeReads(store: TaskStore): TaskReads {
  return {
    task: (id) => store.get(id),
    list: (query) => store.list(query),
    countByStatus: () => store.countByStatus(),
    classNames: () => store.distinctClassNames(),
    skaldTasks: async (skaldId) => (await store.list({ executor: skaldId, limit: 10_000 })).items,
    changed: () => Promise.resolve(),
    changedMany: () => Promise.resolve(),
  }
}
