// Golden payloads from the wire reference (§2.3) and the all-task value (§1.3).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  EventValidationError,
  createTaskEvent,
  parseAllTasks,
  parseTaskEvent,
  parseUpdateTaskWorkerEvent,
  serializeAllTasks,
  serializeTaskEvent,
  serializeUpdateTaskWorkerEvent,
} from '../../src/model/index.ts'

const CONTROLLER_EVENT =
  '{"id":"t1","title":null,"initiator":null,"recipient":null,"createDateTime":1724131200000,"updateDateTime":1724131200000,"taskIds":["t1"]}'
const SCRIPT_EVENT =
  '{"id":null,"title":null,"initiator":null,"recipient":null,"create_date_time":1724131200000,"update_date_time":1724131200001,"task_ids":["t1"]}'

void test('TaskEvent: the controller form round-trips byte for byte', () => {
  const event = parseTaskEvent(CONTROLLER_EVENT)
  assert.deepEqual(event.taskIds, ['t1'])
  assert.equal(serializeTaskEvent(event), CONTROLLER_EVENT)
})

void test('TaskEvent: createTaskEvent emits exactly the controller form', () => {
  assert.equal(serializeTaskEvent(createTaskEvent('t1', { now: 1724131200000 })), CONTROLLER_EVENT)
})

void test('TaskEvent: the snake_case script form is accepted and re-emitted in camelCase', () => {
  const event = parseTaskEvent(Buffer.from(SCRIPT_EVENT))
  assert.equal(event.id, null)
  assert.equal(event.createDateTime, 1724131200000)
  assert.equal(event.updateDateTime, 1724131200001)
  assert.deepEqual(event.taskIds, ['t1'])
  assert.equal(
    serializeTaskEvent(event),
    '{"id":null,"title":null,"initiator":null,"recipient":null,"createDateTime":1724131200000,"updateDateTime":1724131200001,"taskIds":["t1"]}',
  )
})

void test('TaskEvent: lax ints, missing optional fields default, unknown keys are ignored', () => {
  const event = parseTaskEvent({ taskIds: ['a', 'b'], createDateTime: '17', extra: 1 }, { now: 99 })
  assert.deepEqual(event, {
    id: null,
    title: null,
    initiator: null,
    recipient: null,
    createDateTime: 17,
    updateDateTime: 99,
    taskIds: ['a', 'b'],
  })
})

void test('TaskEvent: the camelCase alias wins over the snake_case name when both are present', () => {
  assert.deepEqual(parseTaskEvent({ taskIds: ['camel'], task_ids: ['snake'] }).taskIds, ['camel'])
})

void test('TaskEvent: invalid payloads name the field', () => {
  assert.throws(() => parseTaskEvent('{"id":"x"}'), (e: unknown) => e instanceof EventValidationError && e.field === 'taskIds')
  assert.throws(() => parseTaskEvent('{"taskIds":["a"],"createDateTime":1.5}'), /TaskEvent\.createDateTime/)
  assert.throws(() => parseTaskEvent('not json'), /TaskEvent: not valid JSON/)
  assert.throws(() => parseTaskEvent('[1]'), /expected a JSON object/)
})

void test('UpdateTaskWorkerEvent: attachments kept as sent (Python field names), null allowed', () => {
  const wire = '{"attachments":{"rtsp_url":"rtsp://cam/1","fix_frame":10}}'
  const event = parseUpdateTaskWorkerEvent(wire)
  assert.deepEqual(event.attachments, { rtsp_url: 'rtsp://cam/1', fix_frame: 10 })
  assert.equal(serializeUpdateTaskWorkerEvent(event), wire)
  assert.equal(serializeUpdateTaskWorkerEvent(parseUpdateTaskWorkerEvent('{"attachments":null}')), '{"attachments":null}')
  assert.equal(parseUpdateTaskWorkerEvent('{}').attachments, null)
  assert.throws(() => parseUpdateTaskWorkerEvent('{"attachments":[1]}'), /UpdateTaskWorkerEvent\.attachments/)
})

void test('all-task: snake_case keys exactly as a Python node writes them', () => {
  const text = serializeAllTasks({ tasks: [{ id: 'task-1', className: 'MyWorker' }], timestamp: 1724131200000 })
  assert.equal(text, '{"tasks":[{"id":"task-1","class_name":"MyWorker"}],"existed_task_ids":["task-1"],"timestamp":1724131200000}')
  assert.deepEqual(parseAllTasks(text), { tasks: [{ id: 'task-1', className: 'MyWorker' }], timestamp: 1724131200000 })
})

void test('all-task: read like the Python controller (bad input is an empty list, incomplete items are skipped)', () => {
  assert.deepEqual(parseAllTasks(null).tasks, [])
  assert.deepEqual(parseAllTasks('garbage').tasks, [])
  assert.deepEqual(parseAllTasks('{"existed_task_ids":["a"]}').tasks, [])
  assert.deepEqual(parseAllTasks('{"tasks":[{"id":"a"},{"id":"b","class_name":"B"},{"class_name":"C"}],"timestamp":5}'), {
    tasks: [{ id: 'b', className: 'B' }],
    timestamp: 5,
  })
})
