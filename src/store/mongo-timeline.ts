// Tasks' timelines in MongoDB: a collection of their own beside the tasks (`<tasks>_ts_timeline`), which Python
// never reads. `_id` is (task, at, status), so a change recorded twice (by several controllers) is kept once.
import { Long, MongoBulkWriteError, type Collection } from 'mongodb'
import type { TaskLifecycleStatus } from '../model/enums.ts'
import { TIMELINE_MAX_ENTRIES, type TimelineEntry } from './task-store.ts'
import { checkTimelineEntries, tasksToPrune, timelineLimit } from './timeline.ts'

export interface TimelineDocument {
  _id: string
  taskId: string
  at: Long
  lifecycleStatus: string
  executor: string | null
  attempt: number
  message: string | null
}

export const MONGO_TIMELINE_INDEX = { key: { taskId: 1, at: -1 } as const, name: 'taskId_1_at_-1' }

export class MongoTimeline {
  readonly collection: Collection<TimelineDocument>

  constructor(collection: Collection<TimelineDocument>) {
    this.collection = collection
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex(MONGO_TIMELINE_INDEX.key, { name: MONGO_TIMELINE_INDEX.name })
  }

  async append(entries: readonly TimelineEntry[]): Promise<void> {
    const checked = checkTimelineEntries(entries)
    if (checked.length === 0) return
    const docs = checked.map((e) => ({
      // at is digits and a status has no `:`, so this reads back one way (FerretDB refuses NUL in strings)
      _id: `${e.at}:${e.lifecycleStatus}:${e.taskId}`,
      taskId: e.taskId,
      at: Long.fromNumber(e.at),
      lifecycleStatus: e.lifecycleStatus,
      executor: e.executor,
      attempt: e.attempt,
      message: e.message,
    }))
    try {
      await this.collection.insertMany(docs, { ordered: false })
    } catch (error) {
      // Entries recorded before (by this controller or another) are duplicates: the rest went in.
      const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : []
      const onlyDuplicates = writeErrors.length > 0 && writeErrors.every((w) => w.code === 11000)
      if (!onlyDuplicates) throw error
    }
    await Promise.all(tasksToPrune(checked).map((id) => this.#prune(id)))
  }

  async #prune(taskId: string): Promise<void> {
    const [oldestKept] = await this.collection.find({ taskId }).sort({ at: -1 }).skip(TIMELINE_MAX_ENTRIES - 1).limit(1).toArray()
    if (oldestKept) await this.collection.deleteMany({ taskId, at: { $lt: oldestKept.at } })
  }

  async read(taskId: string, limit: number | undefined): Promise<TimelineEntry[]> {
    const docs = await this.collection.find({ taskId }).sort({ at: -1, lifecycleStatus: -1 }).limit(timelineLimit(limit)).toArray()
    return docs.reverse().map((d) => ({
      taskId: d.taskId,
      at: typeof d.at === 'number' ? d.at : Number(d.at),
      lifecycleStatus: d.lifecycleStatus as TaskLifecycleStatus,
      executor: d.executor,
      attempt: d.attempt,
      message: d.message,
    }))
  }

  async deleteTask(taskId: string): Promise<void> {
    await this.collection.deleteMany({ taskId })
  }
}
