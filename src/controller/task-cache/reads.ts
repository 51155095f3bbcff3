// The controller API's read seam (TaskReads, src/controller/task-reads.ts) served by the task caches, and the lines a
// cleanup run reports to `POST /api/system/cleanup`.
import type { TaskReads } from '../task-reads.ts'
import type { TaskCacheCleanupReport, TaskCaches } from './api.ts'

/**
 * The API's reads through the task caches. `skaldTasks` returns the newest `skaldTasksLimit` tasks of the Skald (100
 * by default), where the store-only reads return up to 10000: enough for a node's page, and a cache value that fits.
 */
export function cachedTaskReads(caches: TaskCaches): TaskReads {
  return {
    task: (id) => caches.task(id),
    list: (query) => caches.list(query),
    countByStatus: async () => (await caches.statistics()).byStatus,
    classNames: async () => (await caches.statistics()).classNames,
    skaldTasks: async (skaldId) => (await caches.skaldTasks(skaldId)).items,
    changed: async (change) => {
      await caches.changed(change)
    },
    changedMany: async (changes) => {
      await caches.changedMany(changes)
    },
  }
}

/** What a cleanup run did, one line per operation. */
export function cleanupOperations(report: TaskCacheCleanupReport): string[] {
  const lines: string[] = []
  if (report.flush !== 'none') lines.push(`task caches: flush after unconfirmed invalidations ${report.flush}`)
  if (report.droppedListPages) lines.push('task caches: list pages and their tag set dropped (no change dropped them for an interval)')
  const { overall } = report.stats
  lines.push(`task caches: statistics logged (${overall.keys ?? 'unknown'} keys, hit rate ${(overall.hitRate * 100).toFixed(1)}%)`)
  return lines
}
