// The Task model against the documents of the wire reference (§3.2, §3.3) and the Python defaults (§4).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_DEADLINE_MS,
  ModeEnum,
  TaskLifecycleStatus,
  TaskValidationError,
  parseTask,
  parseTaskPatch,
  readStoredTask,
  toWireTask,
} from '../../src/model/index.ts'

const NOW = 1724131200000

// What `Task(id=…, class_name=…, source=…).model_dump(by_alias=True)` gives, as JSON (keys in Python's order).
const PYTHON_DEFAULT_TASK =
  '{"id":"task-1","className":"MyWorker","source":"TestingScript","name":null,"description":null,"executor":null,' +
  '"dependencies":null,"mode":"Passive","isPersistent":true,"createDateTime":1724131200000,"updateDateTime":1724131200000,' +
  '"deadlineDateTime":1724736000000,"lifecycleStatus":"Created","priority":0,"attachments":null}'

// The document an edge node inserts for a YAML task that is not in Mongo (§3.3).
const EDGE_YAML_TASK = {
  id: 'cam-1',
  className: 'RtspWorker',
  source: 'YAML',
  name: 'cam-1',
  description: 'Active TaskWorker from YAML. ClassName: RtspWorker',
  executor: 'skalds-edge1',
  dependencies: null,
  mode: 'Active',
  isPersistent: false,
  createDateTime: NOW,
  updateDateTime: NOW,
  deadlineDateTime: 0,
  lifecycleStatus: 'Running',
  priority: 0,
  attachments: { rtspUrl: 'rtsp://cam/1', fixFrame: 10 },
}

void test('defaults match the Python model, and the wire JSON is byte-identical', () => {
  const task = parseTask({ id: 'task-1', className: 'MyWorker', source: 'TestingScript' }, { now: NOW })
  assert.equal(task.mode, ModeEnum.Passive)
  assert.equal(task.lifecycleStatus, TaskLifecycleStatus.Created)
  assert.equal(task.priority, 0)
  assert.equal(task.isPersistent, true)
  assert.equal(task.deadlineDateTime, NOW + DEFAULT_DEADLINE_MS)
  assert.equal(JSON.stringify(toWireTask(task)), PYTHON_DEFAULT_TASK)
})

void test('an edge YAML document round-trips unchanged', () => {
  const task = parseTask(EDGE_YAML_TASK)
  assert.deepEqual(toWireTask(task), EDGE_YAML_TASK)
})

void test('snake_case input spellings are accepted (populate_by_name)', () => {
  const task = parseTask(
    { id: 'a', class_name: 'W', source: 's', lifecycle_status: 'Failed', create_date_time: '5', is_persistent: false },
    { now: NOW },
  )
  assert.equal(task.className, 'W')
  assert.equal(task.lifecycleStatus, 'Failed')
  assert.equal(task.createDateTime, 5)
  assert.equal(task.updateDateTime, 5)
  assert.equal(task.isPersistent, false)
})

void test('validation errors name the field and the reason', () => {
  const cases: [unknown, string][] = [
    [{ className: 'W', source: 's' }, 'id'],
    [{ id: '', className: 'W', source: 's' }, 'id'],
    [{ id: 'a', source: 's' }, 'className'],
    [{ id: 'a', className: 'W' }, 'source'],
    [{ id: 'a', className: 'W', source: 's', priority: 11 }, 'priority'],
    [{ id: 'a', className: 'W', source: 's', priority: -1 }, 'priority'],
    [{ id: 'a', className: 'W', source: 's', priority: 1.5 }, 'priority'],
    [{ id: 'a', className: 'W', source: 's', mode: 'passive' }, 'mode'],
    [{ id: 'a', className: 'W', source: 's', lifecycleStatus: 'Done' }, 'lifecycleStatus'],
    [{ id: 'a', className: 'W', source: 's', createDateTime: 1.5 }, 'createDateTime'],
    [{ id: 'a', className: 'W', source: 's', attachments: [1] }, 'attachments'],
    [{ id: 'a', className: 'W', source: 's', dependencies: 'x' }, 'dependencies'],
  ]
  for (const [input, field] of cases) {
    assert.throws(
      () => parseTask(input),
      (e: unknown) => e instanceof TaskValidationError && e.field === field && e.code === 'E_TASK_INVALID' && e.message.startsWith(`task.${field}: `),
      JSON.stringify(input),
    )
  }
  assert.throws(() => parseTask('x'), /task\.\(root\): expected a JSON object/)
})

void test('priority accepts the bounds and lax integer strings', () => {
  assert.equal(parseTask({ id: 'a', className: 'W', source: 's', priority: 10 }).priority, 10)
  assert.equal(parseTask({ id: 'a', className: 'W', source: 's', priority: '7' }).priority, 7)
})

void test('an empty attachments object is stored as null, like a Python task without attachments', () => {
  assert.equal(parseTask({ id: 'a', className: 'W', source: 's', attachments: {} }).attachments, null)
})

void test('readStoredTask tolerates what other writers leave: doubles, missing fields, nulls, _id, extra keys', () => {
  const task = readStoredTask({
    _id: { fake: 'ObjectId' },
    id: 'p1',
    className: 'W',
    createDateTime: 1724131200000.0,
    updateDateTime: 1724131200123.7,
    priority: 3.0,
    attachments: null,
    lifecycleStatus: null,
    someFutureField: true,
  })
  assert.deepEqual(task, {
    id: 'p1',
    className: 'W',
    source: '',
    name: null,
    description: null,
    executor: null,
    dependencies: null,
    mode: 'Passive',
    isPersistent: true,
    createDateTime: 1724131200000,
    updateDateTime: 1724131200123,
    deadlineDateTime: 0,
    lifecycleStatus: 'Created',
    priority: 3,
    attachments: null,
    // a Python-written document has no runtime: the defaults
    runtime: { epoch: 0, attempt: 0, maxRetries: null, checkpoint: null, lastError: null, pausedAt: null, notBefore: null },
  })
  assert.equal(readStoredTask({ id: 'p', className: 'W', priority: 42 }).priority, 10)
  assert.equal(readStoredTask({ id: 'p', className: 'W', createDateTime: 12n }).createDateTime, 12)
})

void test('readStoredTask still rejects what no reader can act on, naming the document', () => {
  assert.throws(() => readStoredTask({ id: 'p1' }), /stored task "p1"\.className/)
  assert.throws(() => readStoredTask({ id: 'p1', className: 'W', lifecycleStatus: 'running' }), /stored task "p1"\.lifecycleStatus/)
})

void test('patches: only changeable fields, each validated', () => {
  assert.deepEqual(parseTaskPatch({ lifecycleStatus: 'Assigning', executor: 'n1', attachments: {} }), {
    lifecycleStatus: 'Assigning',
    executor: 'n1',
    attachments: null,
  })
  assert.deepEqual(parseTaskPatch({ lifecycle_status: 'Paused', deadlineDateTime: '9' }), { lifecycleStatus: 'Paused', deadlineDateTime: 9 })
  assert.throws(() => parseTaskPatch({ id: 'x' }), /patch\.id: is not a field an update may change/)
  assert.throws(() => parseTaskPatch({ updateDateTime: 1 }), /patch\.updateDateTime/)
  assert.throws(() => parseTaskPatch({ priority: 20 }), /patch\.priority/)
  assert.throws(() => parseTaskPatch({ mode: 'X' }), /patch\.mode/)
})
