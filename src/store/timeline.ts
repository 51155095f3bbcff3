// What both engines check before they record or read a timeline: entries valid, limits in range.
import { LIFECYCLE_STATUSES } from '../model/enums.ts'
import { TaskValidationError } from '../model/errors.ts'
import { TaskQueryError } from './errors.ts'
import type { Task } from '../model/task.ts'
import { TIMELINE_MAX_ENTRIES, type TimelineEntry } from './task-store.ts'

/** The longest `message` kept, in characters (a failed run's error can be long). */
export const TIMELINE_MESSAGE_CHARS = 1024

/** The entries as they will be stored; a `message` longer than the bound is cut with a trailing `…`. */
export function checkTimelineEntries(entries: readonly TimelineEntry[]): TimelineEntry[] {
  return entries.map((e, i) => {
    const what = `timeline[${i}]`
    if (typeof e.taskId !== 'string' || e.taskId === '') throw new TaskValidationError(what, 'taskId', 'must be a non-empty string')
    if (!Number.isSafeInteger(e.at) || e.at < 0) throw new TaskValidationError(what, 'at', `must be epoch ms (an integer ≥ 0), got ${String(e.at)}`)
    if (!LIFECYCLE_STATUSES.includes(e.lifecycleStatus)) throw new TaskValidationError(what, 'lifecycleStatus', `must be one of ${LIFECYCLE_STATUSES.join(', ')}`)
    if (e.executor !== null && typeof e.executor !== 'string') throw new TaskValidationError(what, 'executor', 'must be a string or null')
    if (!Number.isSafeInteger(e.attempt) || e.attempt < 0) throw new TaskValidationError(what, 'attempt', `must be an integer ≥ 0, got ${String(e.attempt)}`)
    if (e.message !== null && typeof e.message !== 'string') throw new TaskValidationError(what, 'message', 'must be a string or null')
    const message = e.message !== null && e.message.length > TIMELINE_MESSAGE_CHARS ? `${e.message.slice(0, TIMELINE_MESSAGE_CHARS - 1)}…` : e.message
    return { taskId: e.taskId, at: e.at, lifecycleStatus: e.lifecycleStatus, executor: e.executor, attempt: e.attempt, message }
  })
}

/** The number of entries a read returns: default and most TIMELINE_MAX_ENTRIES. */
export function timelineLimit(limit: number | undefined): number {
  if (limit === undefined) return TIMELINE_MAX_ENTRIES
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TaskQueryError(`timeline: limit must be a positive integer, got ${String(limit)}`)
  return Math.min(limit, TIMELINE_MAX_ENTRIES)
}

/** The tasks whose timelines are cut after this batch: those that went back to Created in it. */
export function tasksToPrune(entries: readonly TimelineEntry[]): string[] {
  return [...new Set(entries.filter((e) => e.lifecycleStatus === 'Created').map((e) => e.taskId))]
}

/** The entry a write of `task` makes: its status and node now, stamped with its updateDateTime. */
export function timelineEntryOf(task: Task): TimelineEntry {
  return {
    taskId: task.id,
    at: task.updateDateTime,
    lifecycleStatus: task.lifecycleStatus,
    executor: task.executor,
    attempt: task.runtime.attempt,
    message: task.lifecycleStatus === 'Failed' ? task.runtime.lastError : null,
  }
}

/** Whether a write from `before` to `after` belongs in the timeline: a change of status or node. */
export function changesTimeline(before: Task, after: Task): boolean {
  return before.lifecycleStatus !== after.lifecycleStatus || before.executor !== after.executor
}
