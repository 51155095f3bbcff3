// TaskStore on MongoDB through the official driver, in the Python Skalds' schema: database DB_NAME,
// collection `tasks`, unique index `id_1`, documents as `Task.model_dump(by_alias=True)` writes them.
import { Long, MongoClient, MongoServerError, ObjectId, type Collection, type Document, type Filter } from 'mongodb'
import type { Task, TaskInput, TaskPatch, TaskRuntime } from '../model/task.ts'
import { applyTaskPatch, isDefaultRuntime, parseTask, parseTaskPatch, readStoredTask } from '../model/task.ts'
import { ModeEnum, TaskLifecycleStatus } from '../model/enums.ts'
import { StoreUnavailableError, TaskConflictError, TaskExistsError, TaskNotFoundError } from './errors.ts'
import { TaskWriteLocks } from './mongo-write-lock.ts'
import {
  MAX_BLIND_UPDATE_ATTEMPTS,
  checkConditions,
  meetsConditions,
  claimTask,
  emptyStatusCounts,
  escapeRegex,
  isConditional,
  nextUpdateDateTime,
  normalizeFilter,
  normalizeQuery,
  normalizeStampQuery,
  type NormalFilter,
} from './query.ts'
import { resolveMongoOptions, type MongoTaskStoreOptions } from './options.ts'
import type { StatusCounts, TaskClaimOptions, TaskFilter, TaskListQuery, TaskPage, TaskStamp, TaskStampPage, TaskStore, TaskUpdateOptions, TimelineEntry } from './task-store.ts'
import { MongoTimeline } from './mongo-timeline.ts'
import { changesTimeline, checkTimelineEntries, timelineEntryOf, timelineLimit } from './timeline.ts'

export type { MongoTaskStoreOptions } from './options.ts'

export const DEFAULT_DB_NAME = 'skalds'
export const DEFAULT_COLLECTION_NAME = 'tasks'

/** An index this store creates at connect (`ensureIndexes`). */
export interface MongoTaskIndex {
  key: Record<string, 1 | -1>
  name: string
  unique?: boolean
}

/**
 * Indexes: Python's unique `id_1` (Python creates no other), then one per list shape: the equality fields, then
 * the sort key, then `id` (the tie-break, in the sort key's direction), so a page is one ordered index range
 * (or a merge of a few, for `$in`) stopped at skip + limit instead of an in-memory sort of every match. Read
 * backwards, each also serves the reverse sort. The single-field and `lifecycleStatus_1_mode_1` indexes of
 * earlier versions stay: each is a prefix of a compound one, but a library does not drop indexes from a
 * database Python and older versions share (docs/store.md says which ones can go by hand).
 * Exported for the tests; not part of the package API.
 */
export const MONGO_TASK_INDEXES: readonly MongoTaskIndex[] = [
  { key: { id: 1 }, name: 'id_1', unique: true },
  // earlier versions
  { key: { lifecycleStatus: 1, mode: 1 }, name: 'lifecycleStatus_1_mode_1' },
  { key: { mode: 1 }, name: 'mode_1' },
  { key: { className: 1 }, name: 'className_1' },
  { key: { executor: 1 }, name: 'executor_1' },
  { key: { createDateTime: -1 }, name: 'createDateTime_-1' },
  { key: { updateDateTime: -1 }, name: 'updateDateTime_-1' },
  // filter + sort: the REST list (newest first), the change feed, the dispatcher
  { key: { createDateTime: -1, id: -1 }, name: 'createDateTime_-1_id_-1' },
  { key: { lifecycleStatus: 1, createDateTime: -1, id: -1 }, name: 'lifecycleStatus_1_createDateTime_-1_id_-1' },
  { key: { className: 1, createDateTime: -1, id: -1 }, name: 'className_1_createDateTime_-1_id_-1' },
  { key: { className: 1, lifecycleStatus: 1, createDateTime: -1, id: -1 }, name: 'className_1_lifecycleStatus_1_createDateTime_-1_id_-1' },
  { key: { executor: 1, createDateTime: -1, id: -1 }, name: 'executor_1_createDateTime_-1_id_-1' },
  { key: { mode: 1, createDateTime: -1, id: -1 }, name: 'mode_1_createDateTime_-1_id_-1' },
  { key: { updateDateTime: 1, id: 1 }, name: 'updateDateTime_1_id_1' },
  { key: { lifecycleStatus: 1, mode: 1, priority: -1, createDateTime: 1, id: 1 }, name: 'lifecycleStatus_1_mode_1_priority_-1_createDateTime_1_id_1' },
]

/** Timestamps are BSON Int64, as Python (int) writes them; plain JS numbers above 2^31 would become doubles. */
function int64(ms: number): Long {
  return Long.fromNumber(ms)
}

/**
 * `runtime` as stored: the checkpoint as its JSON text (any keys, `$` and `.` included, survive every server;
 * its size is the bound checked), `pausedAt` and `notBefore` as Int64 like the other timestamps.
 */
function runtimeToMongo(runtime: TaskRuntime): Document {
  return {
    epoch: runtime.epoch,
    attempt: runtime.attempt,
    maxRetries: runtime.maxRetries,
    checkpoint: runtime.checkpoint === null ? null : JSON.stringify(runtime.checkpoint),
    lastError: runtime.lastError,
    pausedAt: runtime.pausedAt === null ? null : int64(runtime.pausedAt),
    notBefore: runtime.notBefore === null ? null : int64(runtime.notBefore),
  }
}

function runtimeFromMongo(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = v instanceof Long ? v.toNumber() : v
  if (typeof out.checkpoint === 'string') out.checkpoint = JSON.parse(out.checkpoint) as unknown
  return out
}

/**
 * The document Python writes for this task, keys in the same order, `_id` first; then `runtime`, only when it
 * holds more than the defaults (so a fresh task's document is exactly Python's).
 */
export function toMongoDocument(task: Task): Document {
  return {
    _id: new ObjectId(),
    id: task.id,
    className: task.className,
    source: task.source,
    name: task.name,
    description: task.description,
    executor: task.executor,
    dependencies: task.dependencies,
    mode: task.mode,
    isPersistent: task.isPersistent,
    createDateTime: int64(task.createDateTime),
    updateDateTime: int64(task.updateDateTime),
    deadlineDateTime: int64(task.deadlineDateTime),
    lifecycleStatus: task.lifecycleStatus,
    priority: task.priority,
    attachments: task.attachments,
    ...(isDefaultRuntime(task.runtime) ? {} : { runtime: runtimeToMongo(task.runtime) }),
  }
}

/** Reads a stored document: Int64 values to numbers, then the model's tolerant reader. */
export function fromMongoDocument(doc: Document): Task {
  const plain: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(doc)) plain[k] = v instanceof Long ? v.toNumber() : v
  if ('runtime' in plain) plain.runtime = runtimeFromMongo(plain.runtime)
  return readStoredTask(plain)
}

/**
 * `field IN values`, where the default value also matches documents that lack the field (as the model reads them).
 * One value is a plain equality: the same plan on MongoDB, and FerretDB pushes only equalities down to its backend.
 */
function inWithDefault(values: readonly string[], defaultValue: string): Document | string {
  if (values.includes(defaultValue)) return { $in: [...values, null] }
  return values.length === 1 ? values[0]! : { $in: [...values] }
}

function mongoFilter(filter: NormalFilter): Filter<Document> {
  const f: Document = {}
  if (filter.lifecycleStatus) f.lifecycleStatus = inWithDefault(filter.lifecycleStatus, TaskLifecycleStatus.Created)
  if (filter.mode) f.mode = inWithDefault(filter.mode, ModeEnum.Passive)
  if (filter.className) f.className = filter.className.length === 1 ? filter.className[0] : { $in: filter.className }
  // `{executor: null}` also matches documents without the field.
  if (filter.executor !== undefined) f.executor = filter.executor
  if (filter.text !== undefined) {
    // Literal, case-insensitive substring: the user's text is escaped, never used as a pattern.
    const regex = { $regex: escapeRegex(filter.text), $options: 'i' }
    f.$or = [{ id: regex }, { name: regex }]
  }
  if (filter.createdFrom !== undefined) f.createDateTime = { $gte: filter.createdFrom }
  if (filter.updatedFrom !== undefined) f.updateDateTime = { $gte: filter.updatedFrom }
  return f
}

/**
 * Matches the token as read: [T, T+1) also covers a fractional double Python-compatible writers may leave, and
 * T = 0 (what a missing field reads as) also matches the missing field.
 */
function tokenFilter(updateDateTime: number): Document {
  const range = { updateDateTime: { $gte: updateDateTime, $lt: updateDateTime + 1 } }
  return updateDateTime === 0 ? { $or: [range, { updateDateTime: null }] } : range
}

/**
 * The filter and sort of a list page. The sort is the normalised one (`id` last, in the last key's direction),
 * which is exactly the key order and directions of the index for that shape, or their reverse.
 * Exported for the tests; not part of the package API.
 */
export function mongoListQuery(query: TaskListQuery = {}): { filter: Filter<Document>; sort: Record<string, 1 | -1>; skip: number; limit: number } {
  const q = normalizeQuery(query)
  const sort: Record<string, 1 | -1> = {}
  for (const s of q.sort) sort[s.field] = s.direction === 'desc' ? -1 : 1
  return { filter: mongoFilter(q.filter), sort, skip: q.offset, limit: q.limit }
}

/**
 * countByStatus as one aggregation. The $sort on the group key lets MongoDB read the statuses in order from a
 * lifecycleStatus-led index (with a class filter, className_1_lifecycleStatus_1_…), covered: index keys only, no
 * document fetched. Python writes the collection directly, so there is no counts document to keep instead.
 * Exported for the tests; not part of the package API.
 */
export function countByStatusPipeline(filter: Filter<Document>): Document[] {
  return [{ $match: filter }, { $sort: { lifecycleStatus: 1 } }, { $group: { _id: '$lifecycleStatus', n: { $sum: 1 } } }]
}

function conditionFilter(options: TaskUpdateOptions | undefined): Document {
  const f: Document = {}
  const expect = options?.expect
  if (expect?.lifecycleStatus !== undefined) {
    const allowed = typeof expect.lifecycleStatus === 'string' ? [expect.lifecycleStatus] : [...expect.lifecycleStatus]
    f.lifecycleStatus = inWithDefault(allowed, TaskLifecycleStatus.Created)
  }
  if (expect?.executor !== undefined) f.executor = expect.executor
  // Epoch 0 is also what a document without `runtime` (Python-written) reads as.
  if (expect?.epoch !== undefined) f['runtime.epoch'] = expect.epoch === 0 ? { $in: [0, null] } : expect.epoch
  return f
}

/** The `$set` of a patch; `runtime` is written whole from the merged task (the token filter guards the merge). */
function patchToSet(patch: TaskPatch, next: Task): Document {
  const set: Document = {}
  for (const [field, value] of Object.entries(patch)) {
    if (field === 'runtime') set.runtime = runtimeToMongo(next.runtime)
    else set[field] = field === 'deadlineDateTime' ? int64(value as number) : value
  }
  set.updateDateTime = int64(next.updateDateTime)
  return set
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000
}

export class MongoTaskStore implements TaskStore {
  readonly kind = 'mongodb'
  readonly timelineRecordsEveryWriter = false
  readonly dbName: string
  readonly collection: Collection
  #client: MongoClient
  #ownsClient: boolean
  #closed = false
  #locks: TaskWriteLocks | undefined
  readonly #timeline: MongoTimeline
  /** the server's name and version, e.g. `MongoDB 7.0.12` or `FerretDB v1.24.2 (MongoDB 7.0.42 wire)` */
  server = ''
  /** true when this store serialises its writers per task (see the writeLocks option) */
  get usesWriteLocks(): boolean {
    return this.#locks !== undefined
  }

  /** Connects (unless a client is given), checks the server answers, and creates the indexes. */
  static async connect(input: MongoTaskStoreOptions): Promise<MongoTaskStore> {
    const options = resolveMongoOptions(input)
    const timeout = options.connectTimeoutMs
    let client = options.client
    const owns = client === undefined
    if (!client) {
      client = new MongoClient(options.url!, { serverSelectionTimeoutMS: timeout, connectTimeoutMS: timeout, appName: 'skalds-ts' })
    }
    const store = new MongoTaskStore(client, owns, options.dbName, options.collectionName)
    try {
      await client.connect()
      const info = await client.db('admin').command({ buildInfo: 1 })
      const ferret = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : undefined
      store.server = ferret ? `FerretDB ${ferret} (MongoDB ${String(info.version)} wire)` : `MongoDB ${String(info.version)}`
      const mode = options.writeLocks
      if (mode === 'always' || (mode === 'auto' && ferret !== undefined)) {
        const locks = client.db(store.dbName).collection<{ _id: string; owner: string; expiresAt: number }>(`${store.collection.collectionName}_ts_locks`)
        store.#locks = new TaskWriteLocks(locks, { ttlMs: options.writeLockTtlMs, waitMs: options.writeLockWaitMs })
      }
      if (options.ensureIndexes) await store.ensureIndexes()
    } catch (error) {
      if (owns) await client.close().catch(() => {})
      throw unavailable(error, `connecting to ${redact(options.url ?? 'the given client')}`)
    }
    return store
  }

  private constructor(client: MongoClient, ownsClient: boolean, dbName: string, collectionName: string) {
    this.#client = client
    this.#ownsClient = ownsClient
    this.dbName = dbName
    this.collection = client.db(dbName).collection(collectionName)
    this.#timeline = new MongoTimeline(client.db(dbName).collection(`${collectionName}_ts_timeline`))
  }

  /** Creates the unique `id_1` index and the query indexes; existing ones are left as they are. */
  async ensureIndexes(): Promise<void> {
    // One index per command: FerretDB 1.24 drops the connection when one createIndexes names several indexes
    // that all exist already (a server panic), and a single existing index is a no-op everywhere.
    for (const i of MONGO_TASK_INDEXES) {
      await this.collection.createIndex(i.key, { name: i.name, ...(i.unique ? { unique: true } : {}) })
    }
    await this.#timeline.ensureIndexes()
  }

  #check(): void {
    if (this.#closed) throw new StoreUnavailableError('mongodb: the store is closed')
  }

  async create(input: TaskInput): Promise<Task> {
    this.#check()
    const task = parseTask(input)
    try {
      await this.collection.insertOne(toMongoDocument(task))
    } catch (error) {
      if (isDuplicateKey(error)) throw new TaskExistsError(task.id, { cause: error })
      throw unavailable(error, `insert ${task.id}`)
    }
    await this.#record(task)
    return task
  }

  /**
   * The timeline entry of a write that succeeded, written before the write returns: once a write is seen done, its
   * entry is there for every reader. Not atomic with it (MongoDB without a transaction): when it fails the write
   * stands and the entry is missing, which a controller's feed then records.
   */
  async #record(task: Task): Promise<void> {
    await this.#timeline.append([timelineEntryOf(task)]).catch(() => {})
  }

  async get(id: string): Promise<Task | null> {
    this.#check()
    const doc = await this.#call(`get ${id}`, () => this.collection.findOne({ id }))
    return doc ? fromMongoDocument(doc) : null
  }

  async getMany(ids: readonly string[]): Promise<Task[]> {
    this.#check()
    const unique = [...new Set(ids)]
    if (unique.length === 0) return []
    const docs = await this.#call('getMany', () => this.collection.find({ id: { $in: unique } }).toArray())
    const found = new Map<string, Task>()
    for (const doc of docs) {
      const task = fromMongoDocument(doc)
      found.set(task.id, task)
    }
    return unique.flatMap((id) => found.get(id) ?? [])
  }

  async update(id: string, patch: TaskPatch, options?: TaskUpdateOptions): Promise<Task> {
    this.#check()
    const p = parseTaskPatch(patch)
    if (!this.#locks) return this.#update(id, p, options)
    return this.#locks.with(id, () => this.#update(id, p, options))
  }

  async #update(id: string, p: TaskPatch, options: TaskUpdateOptions | undefined): Promise<Task> {
    // The caller's copy, tried once in place of a read; whatever it gets wrong, the stored state decides after a read.
    let known = options?.current?.id === id ? options.current : undefined
    // Counts the writes tried on what was read; a try on the caller's copy is not one.
    for (let attempt = 1; ; ) {
      let current: Task
      const guessed = known !== undefined
      if (known) {
        current = known
        known = undefined
        if (!meetsConditions(current, options)) continue
      } else {
        const doc = await this.#call(`update ${id}`, () => this.collection.findOne({ id }))
        if (!doc) throw new TaskNotFoundError(id)
        current = fromMongoDocument(doc)
        checkConditions(current, options)
      }
      const updateDateTime = nextUpdateDateTime(current.updateDateTime)
      // The write re-checks, atomically, that the token (and the expected fields) are still what was read.
      const filter = { $and: [{ id }, tokenFilter(current.updateDateTime), conditionFilter(options)] }
      const after = await this.#call(`update ${id}`, () =>
        this.collection.findOneAndUpdate(filter, { $set: patchToSet(p, applyTaskPatch(current, p, updateDateTime)) }, { returnDocument: 'after' }),
      )
      if (after) {
        const task = fromMongoDocument(after)
        if (changesTimeline(current, task)) await this.#record(task)
        return task
      }
      // The caller's copy was stale: read, and judge on what is stored.
      if (guessed) continue
      if (isConditional(options) || attempt >= MAX_BLIND_UPDATE_ATTEMPTS) {
        const now = await this.#call(`update ${id}`, () => this.collection.findOne({ id }))
        if (!now) throw new TaskNotFoundError(id)
        const reason = isConditional(options) ? 'changed by another writer since it was read' : `still contended after ${attempt} attempts`
        throw new TaskConflictError(id, reason, fromMongoDocument(now))
      }
      // A blind patch lost a race: re-read and apply it on top of the newer state.
      attempt++
    }
  }

  claim(id: string, options: TaskClaimOptions): Promise<Task> {
    return claimTask(this, id, options)
  }

  async list(query: TaskListQuery = {}): Promise<TaskPage> {
    this.#check()
    const q = mongoListQuery(query)
    const [docs, total] = await this.#call('list', () => Promise.all([this.#find(q), this.collection.countDocuments(q.filter)]))
    return { items: docs.map(fromMongoDocument), total, offset: q.skip, limit: q.limit }
  }

  async listItems(query: TaskListQuery = {}): Promise<Task[]> {
    this.#check()
    const q = mongoListQuery(query)
    return (await this.#call('listItems', () => this.#find(q))).map(fromMongoDocument)
  }

  /** The documents of a list page (decoded by the caller, outside #call: a bad document is not an outage). */
  #find(q: ReturnType<typeof mongoListQuery>): Promise<Document[]> {
    return this.collection.find(q.filter).sort(q.sort).skip(q.skip).limit(q.limit).toArray()
  }

  async changedSince(updatedFrom: number, page?: TaskStampPage): Promise<TaskStamp[]> {
    this.#check()
    const q = normalizeStampQuery(updatedFrom, page)
    // updateDateTime_1_id_1 serves the filter and the sort; the projection keeps the documents out of the answer.
    const docs = await this.#call('changedSince', () =>
      this.collection
        .find({ updateDateTime: { $gte: q.updatedFrom } }, { projection: { _id: 0, id: 1, updateDateTime: 1 } })
        .sort({ updateDateTime: 1, id: 1 })
        .skip(q.offset)
        .limit(q.limit)
        .toArray(),
    )
    return docs.flatMap((d) => (typeof d.id === 'string' ? [{ id: d.id, updateDateTime: Number(d.updateDateTime) }] : []))
  }

  async count(filter: TaskFilter = {}): Promise<number> {
    this.#check()
    const f = mongoFilter(normalizeFilter(filter))
    return this.#call('count', () => this.collection.countDocuments(f))
  }

  async countByStatus(filter: TaskFilter = {}): Promise<StatusCounts> {
    this.#check()
    const f = mongoFilter(normalizeFilter(filter))
    const rows = await this.#call('countByStatus', () => this.collection.aggregate<{ _id: unknown; n: number }>(countByStatusPipeline(f)).toArray())
    const counts = emptyStatusCounts()
    for (const r of rows) {
      // A document without a status reads as Created (see readStoredTask).
      const status = typeof r._id === 'string' ? r._id : TaskLifecycleStatus.Created
      if (status in counts) counts[status as keyof StatusCounts] += Number(r.n)
    }
    return counts
  }

  async distinctClassNames(): Promise<string[]> {
    this.#check()
    const values = await this.#call('distinctClassNames', () => this.collection.distinct('className'))
    return values.filter((v): v is string => typeof v === 'string' && v !== '').sort()
  }

  async appendTimeline(entries: readonly TimelineEntry[]): Promise<void> {
    this.#check()
    const checked = checkTimelineEntries(entries)
    await this.#call('appendTimeline', () => this.#timeline.append(checked))
  }

  async timeline(taskId: string, limit?: number): Promise<TimelineEntry[]> {
    this.#check()
    const n = timelineLimit(limit)
    return this.#call(`timeline ${taskId}`, () => this.#timeline.read(taskId, n))
  }

  async delete(id: string): Promise<boolean> {
    this.#check()
    const result = await this.#call(`delete ${id}`, () => this.collection.deleteOne({ id }))
    await this.#call(`delete ${id}`, () => this.#timeline.deleteTask(id))
    return result.deletedCount > 0
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownsClient) await this.#client.close()
  }

  async #call<T>(context: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw unavailable(error, context)
    }
  }
}

/** Driver errors other than our own become StoreUnavailableError with the driver's text kept. */
function unavailable(error: unknown, context: string): Error {
  if (error instanceof StoreUnavailableError || error instanceof TaskConflictError || error instanceof TaskNotFoundError) return error
  const err = error instanceof Error ? error : new Error(String(error))
  return new StoreUnavailableError(`mongodb: ${context}: ${err.message}`, { cause: err })
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}
