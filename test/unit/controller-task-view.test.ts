// The API's view of a stored task: which statuses read the run's heartbeat, error and exception from the Skalds'
// state. A Failed task keeps showing its last run's exception, as Python's API does: a Python node's worker writes
// it to `task:{id}:exception` only (docs/python-interop.md).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { viewTasks } from '../../src/controller/http/task-view.ts'
import { parseTask, type Task } from '../../src/model/task.ts'
import type { SkaldStateReader, TaskBeat } from '../../src/state/reader.ts'

const beat = (taskId: string): TaskBeat => ({ taskId, heartbeat: -1, heartbeatPresent: true, heartbeatTtlMs: 3_600_000, exception: `boom in ${taskId}`, hasError: undefined })
const reader = { beat: (id: string) => Promise.resolve(beat(id)) } as unknown as SkaldStateReader
const task = (id: string, lifecycleStatus: string): Task => parseTask({ id, className: 'C', source: 'test', lifecycleStatus })

void describe('task view: live fields', () => {
  void it('a Failed task shows its last run heartbeat and exception; Created, Finished and Cancelled ones do not read them', async () => {
    const [failed, running, created, finished, cancelled] = await viewTasks(reader, [task('f', 'Failed'), task('r', 'Running'), task('c', 'Created'), task('d', 'Finished'), task('x', 'Cancelled')])
    assert.equal(failed!.exception, 'boom in f')
    assert.equal(failed!.heartbeat, -1)
    assert.equal(running!.exception, 'boom in r')
    for (const v of [created!, finished!, cancelled!]) {
      assert.equal(v.exception, null)
      assert.equal(v.heartbeat, 0)
    }
  })
})
