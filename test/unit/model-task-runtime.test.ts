// The TS-only runtime part of a task: defaults, validation naming the field, bounds, merge, and the wire shape.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  MAX_CHECKPOINT_BYTES,
  MAX_LAST_ERROR_CHARS,
  applyTaskPatch,
  defaultTaskRuntime,
  parseTask,
  parseTaskPatch,
  readStoredTask,
  toWireTask,
} from '../../src/model/task.ts'
import { TaskValidationError } from '../../src/model/errors.ts'

function rejects(fn: () => unknown, field: string, reason: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TaskValidationError, String(e))
    assert.equal(e.field, field, e.message)
    assert.match(e.reason, reason)
    return true
  })
}

void test('runtime: a new task starts at the defaults; given fields are kept; toWireTask stays Python-shaped', () => {
  const t = parseTask({ id: 't', className: 'W', source: 's' })
  assert.deepEqual(t.runtime, defaultTaskRuntime())
  assert.deepEqual(t.runtime, { epoch: 0, attempt: 0, maxRetries: null, checkpoint: null, lastError: null, pausedAt: null, notBefore: null })
  const u = parseTask({ id: 't', className: 'W', source: 's', runtime: { maxRetries: 3 } })
  assert.equal(u.runtime.maxRetries, 3)
  assert.equal(u.runtime.epoch, 0)
  assert.equal('runtime' in toWireTask(u), false)
  assert.deepEqual(Object.keys(toWireTask(u)).at(-1), 'attachments')
})

void test('runtime: stored — absent or null gives the defaults, missing fields theirs, wrong types name the field', () => {
  assert.deepEqual(readStoredTask({ id: 'p', className: 'W' }).runtime, defaultTaskRuntime())
  assert.deepEqual(readStoredTask({ id: 'p', className: 'W', runtime: null }).runtime, defaultTaskRuntime())
  assert.deepEqual(readStoredTask({ id: 'p', className: 'W', runtime: { epoch: 4, futureField: 1 } }).runtime, { ...defaultTaskRuntime(), epoch: 4 })
  assert.equal(readStoredTask({ id: 'p', className: 'W', runtime: { pausedAt: 17.9 } }).runtime.pausedAt, 17)
  rejects(() => readStoredTask({ id: 'p', className: 'W', runtime: { epoch: 'x' } }), 'runtime.epoch', /./)
  rejects(() => readStoredTask({ id: 'p', className: 'W', runtime: [] }), 'runtime', /object/)
})

void test('runtime: patches name the offending runtime field; unknown runtime fields are refused', () => {
  assert.deepEqual(parseTaskPatch({ runtime: { epoch: 2, checkpoint: { frame: 10 } } }), { runtime: { epoch: 2, checkpoint: { frame: 10 } } })
  rejects(() => parseTaskPatch({ runtime: { epoch: -1 } }), 'runtime.epoch', /≥ 0/)
  rejects(() => parseTaskPatch({ runtime: { attempt: 1.5 } }), 'runtime.attempt', /./)
  rejects(() => parseTaskPatch({ runtime: { maxRetries: 'many' } }), 'runtime.maxRetries', /./)
  rejects(() => parseTaskPatch({ runtime: { epcoh: 1 } }), 'runtime.epcoh', /unknown field/)
  rejects(() => parseTaskPatch({ runtime: { checkpoint: { n: Number.NaN } } }), 'runtime.checkpoint', /JSON/)
  rejects(() => parseTaskPatch({ runtime: { checkpoint: { f: () => 1 } } }), 'runtime.checkpoint', /JSON/)
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  rejects(() => parseTaskPatch({ runtime: { checkpoint: cyclic } }), 'runtime.checkpoint', /nested more than 64/)
  rejects(() => parseTaskPatch({ runtime: { checkpoint: { at: new Date(0) } } }), 'runtime.checkpoint', /at is Date/)
  rejects(() => parseTaskPatch({ runtime: 3 }), 'runtime', /object/)
  rejects(() => parseTask({ id: 't', className: 'W', source: 's', runtime: { epoch: 'x' } }), 'runtime.epoch', /./)
})

void test('runtime: the checkpoint is bounded in bytes of its JSON; a long lastError is cut, not refused', () => {
  const fits = 'x'.repeat(MAX_CHECKPOINT_BYTES - 2) // the quotes make it exactly the limit
  assert.equal(parseTaskPatch({ runtime: { checkpoint: fits } }).runtime?.checkpoint, fits)
  rejects(() => parseTaskPatch({ runtime: { checkpoint: `${fits}x` } }), 'runtime.checkpoint', /65537 bytes as JSON, more than 65536/)
  // multi-byte characters count as their UTF-8 bytes
  rejects(() => parseTaskPatch({ runtime: { checkpoint: 'é'.repeat(MAX_CHECKPOINT_BYTES / 2) } }), 'runtime.checkpoint', /more than/)
  const cut = parseTaskPatch({ runtime: { lastError: 'e'.repeat(MAX_LAST_ERROR_CHARS + 100) } }).runtime?.lastError
  assert.equal(cut?.length, MAX_LAST_ERROR_CHARS)
  assert.ok(cut?.endsWith('…'))
})

void test('runtime: applyTaskPatch merges runtime field by field', () => {
  const t = parseTask({ id: 't', className: 'W', source: 's', runtime: { epoch: 3, checkpoint: { at: 1 } } })
  const next = applyTaskPatch(t, parseTaskPatch({ runtime: { attempt: 1 }, executor: 'n1' }), 99)
  assert.deepEqual(next.runtime, { ...defaultTaskRuntime(), epoch: 3, attempt: 1, checkpoint: { at: 1 } })
  assert.equal(next.executor, 'n1')
  assert.equal(next.updateDateTime, 99)
  assert.equal(applyTaskPatch(t, { priority: 2 }, 100).runtime, t.runtime)
})
