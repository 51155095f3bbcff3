// Interop 4: task documents and TaskEvents written by either project are read by the other without loss, on MongoDB
// (FerretDB) and the Kafka 3.9 broker. The Python side is its own code (test/fixtures/python/documents.py: its Task
// model and TaskRepository, its TaskEvent model and KafkaProxy / kafka-python); ours is MongoTaskStore, our API and
// KafkaBus. Both spellings of a TaskEvent are covered: camelCase (Python's controller, by alias; ours) and snake_case
// (Python's example scripts, by field name). Isolation: a database and topic names of this run.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KafkaBus } from '../../src/bus/kafka.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createTaskEvent, taskEventSchema, toWireTaskEvent, type TaskEvent } from '../../src/model/events.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'
import { apiClient } from '../helpers/controller-api.ts'
import { kafka39Brokers, type PeerProcess, PYTHON_FIXTURES, pythonEnv, runPython, startOurController } from '../helpers/python-peer.ts'
import { mongoUrl } from '../helpers/servers.ts'
import { waitFor } from '../helpers/wait.ts'

const run = randomBytes(4).toString('hex')
const dbName = `interop_docs_${run}`
const children: PeerProcess[] = []
const DOCUMENTS = join(PYTHON_FIXTURES, 'documents.py')
let dir: string
let store: MongoTaskStore
let env: Record<string, string>
const closers: Array<() => Promise<void>> = []

const docs = (p: PeerProcess): Array<Record<string, unknown>> => p.lines.filter((l) => l.startsWith('DOC ')).map((l) => JSON.parse(l.slice(4)) as Record<string, unknown>)

/** The fields both projects share (Python's Task model, by alias). */
const SHARED = ['id', 'className', 'source', 'name', 'description', 'executor', 'dependencies', 'mode', 'isPersistent', 'createDateTime', 'updateDateTime', 'deadlineDateTime', 'lifecycleStatus', 'priority', 'attachments'] as const

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-interop-docs-'))
  env = pythonEnv({ dbName, logPath: join(dir, 'py-logs') })
  store = await MongoTaskStore.connect({ url: mongoUrl(), dbName })
  closers.push(() => store.close())
})

after(async () => {
  for (const p of children) p.kill()
  for (const close of closers.splice(0).reverse()) await close()
  rmSync(dir, { recursive: true, force: true })
})

void describe('interop: task documents and events across the projects', () => {
  void it("tasks Python's TaskRepository writes are read by our store and API without loss", async () => {
    const specs = [
      { id: `py-doc-full-${run}`, className: 'InteropWorker', source: 'PythonScript', name: 'full', description: 'every field', executor: 'py-node-x', dependencies: ['a', 'b'], mode: 'Active', isPersistent: false, createDateTime: 1_724_131_200_123, updateDateTime: 1_724_131_200_456, deadlineDateTime: 1_924_131_200_789, lifecycleStatus: 'Running', priority: 7, attachments: { label: 'full', runSeconds: 12, outcome: 'fail' } },
      { id: `py-doc-null-${run}`, className: 'InteropWorker', source: 'PythonScript' }, // Python's defaults, attachments null
      { id: `py-doc-snake-${run}`, class_name: 'InteropWorker', source: 'PythonScript', lifecycle_status: 'Finished', attachments: { label: 'snake', run_seconds: 3 } },
    ]
    const written = docs(await runPython('documents.py write', DOCUMENTS, ['write', JSON.stringify(specs)], { env }, children))
    assert.equal(written.length, 3)
    // the API over the store only: a control plane would dispatch the Created task and judge the Running one
    const ours = await startOurController({ dbName, storeOnly: true })
    closers.push(ours.close)
    const api = apiClient(ours.controller.url!)
    for (const py of written) {
      const task = await store.get(String(py.id))
      assert.ok(task, `our store reads ${String(py.id)}`)
      const api1 = await api.call<Record<string, unknown>>('GET', `/api/tasks/${String(py.id)}`)
      assert.equal(api1.status, 200, JSON.stringify(api1.body))
      for (const field of SHARED) {
        const expected = field === 'attachments' && py.attachments === null ? null : py[field]
        assert.deepEqual((task as unknown as Record<string, unknown>)[field], expected, `store: ${String(py.id)}.${field}`)
        // the API shows attachments null as {} (Python's own API fails on it: wire §8.1-12)
        assert.deepEqual(api1.body[field], field === 'attachments' && expected === null ? {} : expected, `api: ${String(py.id)}.${field}`)
      }
    }
    // the list too (Python's GET /api/tasks/ returns 500 with a null attachments document in the page)
    const list = await api.call<{ total: number }>('GET', '/api/tasks/?pageSize=100')
    assert.equal(list.status, 200)
    assert.equal(list.body.total, 3)
  })

  void it("tasks our store writes are read by Python's TaskRepository and Task model without loss", async () => {
    const ids = [`ts-doc-full-${run}`, `ts-doc-min-${run}`]
    await store.create({ id: ids[0]!, className: 'InteropWorker', source: 'API', name: 'ours', description: 'from TypeScript', executor: 'ts-node-x', dependencies: ['c'], mode: 'Passive', isPersistent: true, deadlineDateTime: 1_924_131_200_000, priority: 10, attachments: { label: 'ours', runSeconds: 4, outcome: 'finish' } })
    await store.create({ id: ids[1]!, className: 'InteropWorker', source: 'API', attachments: { label: 'min' } })
    const read = docs(await runPython('documents.py read', DOCUMENTS, ['read', ...ids], { env }, children))
    assert.equal(read.length, 2)
    for (const [i, py] of read.entries()) {
      assert.ok(py, `Python reads ${ids[i]}`)
      const ours = (await store.get(ids[i]!)) as unknown as Record<string, unknown>
      for (const field of SHARED) {
        // Python's strict read validates the attachments with InteropWorker's model, which fills its defaults
        const expected = field === 'attachments' ? { runSeconds: 30, outcome: 'finish', ...(ours.attachments as object) } : ours[field]
        assert.deepEqual(py[field], expected, `python: ${ids[i]}.${field}`)
      }
    }
  })

  void it('TaskEvents: Python reads what our bus publishes; our bus reads both spellings Python produces', async () => {
    const bus = new KafkaBus({ brokers: kafka39Brokers(), logger: silentLogger })
    closers.push(() => bus.close())
    // ours → Python
    const toPython = `interop.docs.${run}.to-python`
    const ourIds = [`ev-ts-a-${run}`, `ev-ts-b-${run}`]
    for (const id of ourIds) await bus.publish(toPython, id, toWireTaskEvent(createTaskEvent(id)))
    const consumed = await runPython('documents.py consume', DOCUMENTS, ['consume', toPython, String(ourIds.length)], { env }, children)
    const events = consumed.lines.filter((l) => l.startsWith('EVENT ')).map((l) => {
      const [, key, json] = /^EVENT (\S+) (.*)$/.exec(l)!
      return { key, event: JSON.parse(json!) as Record<string, unknown> }
    })
    assert.deepEqual(events.map((e) => e.key).sort(), [...ourIds].sort()) // keys on different partitions: any order
    for (const { key, event } of events) {
      assert.deepEqual(event.taskIds, [key])
      assert.equal(event.id, key)
      assert.equal(typeof event.createDateTime, 'number')
    }
    // Python → ours: each id in both spellings
    const fromPython = `interop.docs.${run}.from-python`
    const seen: Array<{ key: string; event: TaskEvent }> = []
    await bus.subscribe<TaskEvent>(fromPython, `interop-docs-${run}`, (e) => void seen.push({ key: e.key, event: e.payload }), { schema: taskEventSchema, startFrom: 'earliest' })
    const pyIds = [`ev-py-a-${run}`, `ev-py-b-${run}`]
    await runPython('documents.py produce', DOCUMENTS, ['produce', fromPython, ...pyIds], { env }, children)
    await waitFor(() => seen.length >= 4, '4 Python TaskEvents on our bus', 60_000, 100)
    for (const id of pyIds) {
      const mine = seen.filter((s) => s.key === id)
      assert.equal(mine.length, 2, `both spellings of ${id}`)
      for (const { event } of mine) {
        assert.deepEqual(event.taskIds, [id])
        assert.equal(event.id, id)
        assert.equal(typeof event.createDateTime, 'number')
      }
    }
  })
})
