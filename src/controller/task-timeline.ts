// Each task's timeline (GET /api/tasks/{id}/timeline). The store records every change made through it (its own
// writes, the nodes', other controllers'); what it cannot see is a writer that bypasses this library (a Python
// controller or node on the same MongoDB). So each controller also records the changes its feed reports: the store
// keeps a change once, so these fill the gaps without doubling anything. On SQLite the file's triggers see every
// writer, and the feed records nothing (it would only take the file's write lock to find its entries there).
import type { Logger } from '../config/logger.ts'
import type { TaskStore, TimelineEntry } from '../store/task-store.ts'
import { timelineEntryOf } from '../store/timeline.ts'
import type { TaskFeedChange } from './task-feed.ts'

/** The timeline entries of a feed batch: a change of status or node (or a task seen for the first time). */
export function timelineEntriesOf(changes: readonly TaskFeedChange[]): TimelineEntry[] {
  return changes.filter(({ task, previous }) => previous?.lifecycleStatus !== task.lifecycleStatus || previous.executor !== task.executor).map(({ task }) => timelineEntryOf(task))
}

/** Records a batch in the background: a store that fails here costs a gap in the timeline, never the feed. */
export function recordTimeline(store: TaskStore, changes: readonly TaskFeedChange[], logger: Logger): void {
  if (store.timelineRecordsEveryWriter) return
  const entries = timelineEntriesOf(changes)
  if (entries.length === 0) return
  store.appendTimeline(entries).catch((error: unknown) => logger.warn({ err: error, entries: entries.length }, 'timeline: recording failed'))
}
