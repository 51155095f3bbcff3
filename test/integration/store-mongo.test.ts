// The TaskStore contract on MongoDB (the server in MONGO_URL), plus interoperability with Python-written documents.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Double, Int32, Long, MongoClient, type Collection, type Document } from 'mongodb'
import { StoreUnavailableError, TaskConflictError } from '../../src/store/index.ts'
import { MongoTaskStore } from '../../src/store/engines/mongodb.ts'
import { MONGO_TASK_INDEXES, countByStatusPipeline, mongoListQuery } from '../../src/store/mongo-task-store.ts'
import { defaultTaskRuntime } from '../../src/model/task.ts'
import { mongoUrl } from '../helpers/servers.ts'
import { LIST_SHAPES, taskStoreContract } from '../contracts/store-contract.ts'
import { taskRuntimeContract } from '../contracts/task-runtime-contract.ts'

/** A database of its own per run: tests never touch another run's data, and it is dropped at the end. */
function uniqueDbName(label: string): string {
  return `skalds_test_${label}_${process.pid}_${randomUUID().slice(0, 8)}`
}

taskStoreContract('mongodb', () => {
  const url = mongoUrl()
  const dbName = uniqueDbName('contract')
  return Promise.resolve({
    open: () => MongoTaskStore.connect({ url, dbName }),
    cleanup: async () => {
      const client = await MongoClient.connect(url)
      await client.db(dbName).dropDatabase()
      await client.close()
    },
  })
})

taskRuntimeContract('mongodb', () => {
  const url = mongoUrl()
  const name = uniqueDbName('runtime')
  return Promise.resolve({
    open: () => MongoTaskStore.connect({ url, dbName: name }),
    cleanup: async () => {
      const c = await MongoClient.connect(url)
      await c.db(name).dropDatabase()
      await c.close()
    },
  })
})

const PYTHON_KEY_ORDER = [
  '_id',
  'id',
  'className',
  'source',
  'name',
  'description',
  'executor',
  'dependencies',
  'mode',
  'isPersistent',
  'createDateTime',
  'updateDateTime',
  'deadlineDateTime',
  'lifecycleStatus',
  'priority',
  'attachments',
]

let client: MongoClient
let dbName: string
let raw: Collection
let store: MongoTaskStore

// FerretDB 1.x answers explain with its PostgreSQL plan: a sequential scan whatever the indexes, the sort done in its
// own process; there is nothing of ours to check there, so the query-plan test is registered for a real MongoDB only.
const probe = await MongoClient.connect(mongoUrl())
const isFerret = typeof (await probe.db('admin').command({ buildInfo: 1 })).ferretdbVersion === 'string'
await probe.close()

// In a suite of their own, with the probe above awaited before any of it is registered: file-level hooks with a
// top-level await among the tests let --test-name-pattern runs call after() while before() was still connecting
// (after() found no store, the connections stayed open, the run hung).
void describe('mongodb: Python-written documents, indexes, write locks', () => {
  before(async () => {
    dbName = uniqueDbName('interop')
    client = await MongoClient.connect(mongoUrl())
    store = await MongoTaskStore.connect({ url: mongoUrl(), dbName })
    raw = client.db(dbName).collection('tasks')
  })
  after(async () => {
    await store.close()
    await client.db(dbName).dropDatabase()
    await client.close()
  })

  /** The stored document with BSON number types kept (Int32, Long, Double), as Python's driver would see them. */
  async function rawDoc(id: string): Promise<Document> {
    const doc = await raw.findOne({ id }, { promoteValues: false, promoteLongs: false })
    assert.ok(doc, `document ${id} exists`)
    return doc
  }

  void test('mongodb: documents are what Python writes — keys, order, Int64 timestamps, Int32 priority, null attachments', async () => {
    await store.create({ id: 'py-shape', className: 'MyWorker', source: 'TestingScript', createDateTime: 1724131200000 })
    const doc = await rawDoc('py-shape')
    assert.deepEqual(Object.keys(doc), PYTHON_KEY_ORDER)
    for (const field of ['createDateTime', 'updateDateTime', 'deadlineDateTime']) {
      assert.ok(doc[field] instanceof Long, `${field} is Int64`)
    }
    assert.equal((doc.createDateTime as Long).toNumber(), 1724131200000)
    assert.equal((doc.deadlineDateTime as Long).toNumber(), 1724131200000 + 7 * 24 * 3600 * 1000)
    assert.ok(doc.priority instanceof Int32, 'priority is Int32')
    assert.equal(doc.attachments, null)
    assert.equal(doc.mode, 'Passive')
    assert.equal(doc.lifecycleStatus, 'Created')
    assert.equal(doc.isPersistent, true)
    assert.equal(doc.source, 'TestingScript')
    await store.update('py-shape', { lifecycleStatus: 'Assigning', executor: 'n1', deadlineDateTime: 1 })
    const updated = await rawDoc('py-shape')
    assert.deepEqual(Object.keys(updated), PYTHON_KEY_ORDER, 'updates keep the shape: no extra fields such as a version')
    assert.ok(updated.updateDateTime instanceof Long && updated.deadlineDateTime instanceof Long)
  })

  void test('mongodb: the unique id_1 index and the query indexes exist, with their keys in order and direction', async () => {
    const indexes = await raw.listIndexes().toArray()
    const byName = new Map(indexes.map((i) => [i.name as string, i]))
    assert.equal(byName.get('id_1')?.unique, true)
    for (const expected of MONGO_TASK_INDEXES) {
      const index = byName.get(expected.name)
      assert.ok(index, expected.name)
      assert.deepEqual(Object.entries(index.key as Document).map(([f, d]) => [f, Number(d)]), Object.entries(expected.key), expected.name)
    }
    await store.ensureIndexes()
  })

  /** Every stage of an explain's winning plan, whatever the server nests them in (classic, SBE, aggregation). */
  function planStages(node: unknown, out: { stage: string; indexName?: string }[] = []): { stage: string; indexName?: string }[] {
    if (Array.isArray(node)) for (const n of node) planStages(n, out)
    else if (typeof node === 'object' && node !== null) {
      const o = node as Record<string, unknown>
      if (typeof o.stage === 'string') out.push({ stage: o.stage, ...(typeof o.indexName === 'string' ? { indexName: o.indexName } : {}) })
      for (const [k, v] of Object.entries(o)) if (k !== 'rejectedPlans' && k !== 'allPlansExecution') planStages(v, out)
    }
    return out
  }

  // FerretDB 1.x answers explain with its PostgreSQL plan (isFerret, above): registered for a real MongoDB only.
  if (!isFerret) void test('mongodb: each list shape is an index scan without an in-memory sort, and countByStatus reads an index', async () => {
    const cls = `Plan${randomUUID().slice(0, 8)}`
    const statuses = ['Created', 'Running', 'Failed', 'Finished'] as const
    for (let i = 0; i < 200; i++) {
      await store.create({ id: `${cls}-${i}`, className: i % 2 ? 'A' : 'B', source: 's', lifecycleStatus: statuses[i % 4]!, executor: i % 3 ? 'node-1' : null, mode: i % 5 ? 'Passive' : 'Active' })
    }
    for (const shape of LIST_SHAPES) {
      const q = mongoListQuery({ limit: 20, ...shape.query })
      const explain = await raw.find(q.filter).sort(q.sort).skip(q.skip).limit(q.limit).explain('queryPlanner')
      const stages = planStages((explain.queryPlanner as Document).winningPlan)
      const where = `${shape.label}: ${JSON.stringify(stages)}`
      assert.ok(!stages.some((s) => s.stage === 'SORT' || s.stage === 'COLLSCAN'), `no in-memory sort, no collection scan: ${where}`)
      const scans = stages.filter((s) => s.stage === 'IXSCAN')
      assert.ok(scans.length > 0 && scans.every((s) => s.indexName === shape.mongodb), `served by ${shape.mongodb}: ${where}`)
    }
    for (const filter of [{}, { className: 'A' }]) {
      const explain = await raw.aggregate(countByStatusPipeline(filter)).explain('queryPlanner')
      const stages = planStages(explain)
      assert.ok(stages.some((s) => s.stage === 'IXSCAN') && !stages.some((s) => s.stage === 'COLLSCAN' || s.stage === 'SORT'), JSON.stringify(stages))
    }
  })

  void test('mongodb: a Python-shaped document (doubles, missing fields, attachments null) is read, filtered, counted and updated', async () => {
    await raw.insertOne({
      id: 'py-raw',
      className: 'PyRawWorker',
      source: 'TestingScript',
      createDateTime: new Double(1724131200000),
      updateDateTime: new Double(1724131200000.5),
      priority: new Double(3),
      attachments: null,
    })
    const task = await store.get('py-raw')
    assert.ok(task)
    assert.equal(task.createDateTime, 1724131200000)
    assert.equal(task.updateDateTime, 1724131200000)
    assert.equal(task.priority, 3)
    assert.equal(task.mode, 'Passive')
    assert.equal(task.lifecycleStatus, 'Created')
    assert.equal(task.deadlineDateTime, 0)
    assert.equal(task.attachments, null)
    // Missing mode/status read as the defaults, so the dispatcher's query finds it.
    const page = await store.list({ className: 'PyRawWorker', mode: 'Passive', lifecycleStatus: ['Created', 'Failed'] })
    assert.deepEqual(page.items.map((t) => t.id), ['py-raw'])
    assert.equal((await store.countByStatus({ className: 'PyRawWorker' })).Created, 1)
    const updated = await store.update('py-raw', { executor: 'n1', lifecycleStatus: 'Assigning' }, { expectedUpdateDateTime: task.updateDateTime })
    assert.equal(updated.executor, 'n1')
    assert.ok(updated.updateDateTime > task.updateDateTime)
  })

  void test('mongodb: a document without updateDateTime can still be compare-and-set', async () => {
    await raw.insertOne({ id: 'py-no-token', className: 'W', source: 's' })
    const task = await store.get('py-no-token')
    assert.equal(task?.updateDateTime, 0)
    const updated = await store.update('py-no-token', { priority: 2 }, { expectedUpdateDateTime: 0 })
    assert.equal(updated.priority, 2)
    await assert.rejects(store.update('py-no-token', { priority: 4 }, { expectedUpdateDateTime: 0 }), TaskConflictError)
  })

  void test('mongodb: Python writers are detected — a monitor write moves the token, a dispatcher write trips the field condition', async () => {
    const t = await store.create({ id: 'py-writers', className: 'W', source: 's' })
    // Python TaskMonitor / REST: $set {lifecycleStatus, updateDateTime}.
    await raw.updateOne({ id: 'py-writers' }, { $set: { lifecycleStatus: 'Running', updateDateTime: Long.fromNumber(t.updateDateTime + 1000) } })
    await assert.rejects(store.update('py-writers', { priority: 1 }, { expectedUpdateDateTime: t.updateDateTime }), (e: unknown) => {
      return e instanceof TaskConflictError && e.current?.lifecycleStatus === 'Running'
    })
    // Python dispatcher: $set {executor} alone, updateDateTime untouched.
    await store.update('py-writers', { lifecycleStatus: 'Created' })
    await raw.updateOne({ id: 'py-writers' }, { $set: { executor: 'python-node' } })
    await assert.rejects(store.update('py-writers', { executor: 'ts-node' }, { expect: { executor: null, lifecycleStatus: 'Created' } }), /executor is "python-node"/)
    assert.equal((await store.get('py-writers'))?.executor, 'python-node')
  })

  void test('mongodb: an unreachable server is a StoreUnavailableError, quickly', async () => {
    const started = Date.now()
    await assert.rejects(MongoTaskStore.connect({ url: 'mongodb://127.0.0.1:1/', connectTimeoutMs: 500 }), StoreUnavailableError)
    assert.ok(Date.now() - started < 30_000)
  })

  void test('mongodb: write locks are on exactly where updates are not atomic per document (FerretDB)', () => {
    assert.match(store.server, /^(MongoDB|FerretDB) /)
    assert.equal(store.usesWriteLocks, store.server.startsWith('FerretDB'))
  })

  void test('mongodb: a write lock held by another writer makes an update wait, then fail clearly', async () => {
    const locked = await MongoTaskStore.connect({ url: mongoUrl(), dbName, writeLocks: 'always', writeLockWaitMs: 200 })
    try {
      await locked.create({ id: 'locked-1', className: 'W', source: 's' })
      const locks = client.db(dbName).collection<{ _id: string; owner: string; expiresAt: number }>('tasks_ts_locks')
      await locks.insertOne({ _id: 'locked-1', owner: 'someone-else', expiresAt: Date.now() + 60_000 })
      await assert.rejects(locked.update('locked-1', { priority: 1 }), /stayed locked by another writer/)
      // An abandoned lock (past its expiry) is taken over.
      await locks.updateOne({ _id: 'locked-1' }, { $set: { expiresAt: Date.now() - 1 } })
      assert.equal((await locked.update('locked-1', { priority: 2 })).priority, 2)
      assert.equal(await locks.countDocuments({ _id: 'locked-1' }), 0, 'released before the write returns')
    } finally {
      await locked.close()
    }
  })

  void test('mongodb: a Python-written task (no runtime) reads with the defaults and can be claimed at epoch 0', async () => {
    await raw.insertOne({ id: 'py-rt', className: 'W', source: 'TestingScript', lifecycleStatus: 'Created', mode: 'Passive', updateDateTime: new Long(1724131200000) })
    const task = await store.get('py-rt')
    assert.deepEqual(task?.runtime, defaultTaskRuntime())
    const claimed = await store.claim('py-rt', { executor: 'n1', expectEpoch: 0, expectStatus: 'Created' })
    assert.equal(claimed.runtime.epoch, 1)
    await assert.rejects(store.claim('py-rt', { executor: 'n2', expectEpoch: 0 }), TaskConflictError)
  })

  void test('mongodb: runtime sits beside the Python fields — a Python-shaped reader sees its fields unchanged, a Python $set keeps runtime', async () => {
    await store.create({ id: 'py-rt-shape', className: 'MyWorker', source: 'TestingScript', createDateTime: 1724131200000, attachments: { rtspUrl: 'rtsp://x' } })
    const before = await rawDoc('py-rt-shape')
    assert.deepEqual(Object.keys(before), PYTHON_KEY_ORDER, 'a task with default runtime is stored exactly as Python writes it')
    const checkpoint = { frame: 7, 'a.b': { $c: 1 } }
    await store.claim('py-rt-shape', { executor: 'n1', expectEpoch: 0 })
    await store.update('py-rt-shape', { lifecycleStatus: 'Running', runtime: { attempt: 1, checkpoint, pausedAt: 1724131200999 } })
    const after = await rawDoc('py-rt-shape')
    assert.deepEqual(Object.keys(after), [...PYTHON_KEY_ORDER, 'runtime'], 'Python fields first, in order; runtime last')
    for (const field of PYTHON_KEY_ORDER.filter((f) => !['executor', 'lifecycleStatus', 'updateDateTime'].includes(f))) {
      assert.deepEqual(after[field], before[field], field)
    }
    assert.ok(after.updateDateTime instanceof Long)
    const rt = after.runtime as Document
    assert.equal(typeof rt.checkpoint, 'string', 'the checkpoint is stored as its JSON text')
    assert.deepEqual(JSON.parse(rt.checkpoint as string), checkpoint)
    assert.ok(rt.pausedAt instanceof Long)
    // What the Python monitor and REST writers do: $set without runtime; runtime survives.
    await raw.updateOne({ id: 'py-rt-shape' }, { $set: { lifecycleStatus: 'Failed', updateDateTime: new Long(Date.now() + 10) } })
    const read = await store.get('py-rt-shape')
    assert.equal(read?.lifecycleStatus, 'Failed')
    assert.deepEqual(read?.runtime, { ...defaultTaskRuntime(), epoch: 1, attempt: 1, checkpoint, pausedAt: 1724131200999 })
  })
})
