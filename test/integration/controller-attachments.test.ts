// The controller checks a task's attachments against the schema its class's node published, through the real API:
// a node-mode Skald in this process publishes the fixture classes' schemas (CheckpointingWorker expects
// `{ until: int ≥ 1, stepMs?: int ≥ 0 }`), the controller sees them and refuses what the worker would refuse with a
// 400 naming the field, before storing anything. A class no node has is stored unchecked.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { SystemController } from '../../src/controller/system-controller.ts'
import { apiClient, startController, type ApiClient } from '../helpers/controller-api.ts'
import { embeddedEngines, startSkald } from '../helpers/skald-run.ts'
import { waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
let controller: SystemController
let api: ApiClient

before(async () => {
  controller = await startController(engines)
  api = apiClient(controller.url!)
  engines.started.push(await startSkald({ skaldId: 'attachments-node', bus: engines.bus, store: engines.store, state: engines.state, syncPeriodMs: 100, hostOptions: { graceMs: 1000, poolSize: 1 } }))
  // The node publishes its schemas in the background after it registered; the controller reads them each node cycle.
  await waitFor(() => controller.plane.nodes?.nodes.get('attachments-node')?.classSchemas?.CheckpointingWorker, 'the node\'s class schemas to be seen')
})
after(async () => {
  await controller.stop()
  await engines.close()
})

type ErrorBody = { error: string; code: string; status_code: number; path: string; details: Array<{ field: string; reason: string }> }
type Task = { id: string; lifecycleStatus: string; attachments: Record<string, unknown> }

void describe('controller API: attachments checked against the published schema', () => {
  void it('POST refuses attachments the worker would refuse: 400 naming attachments.<field>, nothing stored', async () => {
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['att-zero', { until: 0 }, 'attachments.until', />= 1/],
      ['att-string', { until: 'x' }, 'attachments.until', /integer/],
      ['att-none', undefined, 'attachments.until', /required/],
      ['att-step', { until: 2, stepMs: -1 }, 'attachments.stepMs', />= 0/],
    ]
    for (const [id, attachments, field, reason] of cases) {
      const r = await api.call<ErrorBody>('POST', '/api/tasks/', { id, className: 'CheckpointingWorker', ...(attachments === undefined ? {} : { attachments }) })
      assert.equal(r.status, 400, `${id}: ${JSON.stringify(r.body)}`)
      assert.deepEqual(Object.keys(r.body).sort(), ['code', 'details', 'error', 'path', 'status_code'])
      assert.equal(r.body.code, 'E_ATTACHMENTS_INVALID')
      assert.equal(r.body.status_code, 400)
      assert.equal(r.body.path, '/api/tasks/')
      assert.equal(r.body.details.length, 1, JSON.stringify(r.body.details))
      assert.equal(r.body.details[0]!.field, field)
      assert.match(r.body.details[0]!.reason, reason)
      assert.match(r.body.error, new RegExp(`CheckpointingWorker.*${field.replace('.', '\\.')}`))
      assert.equal((await api.call('GET', `/api/tasks/${id}`)).status, 404, `${id} not stored`)
    }
  })

  void it('POST with valid attachments is a 201, and the task runs to Finished', async () => {
    const r = await api.call<Task>('POST', '/api/tasks/', { id: 'att-valid', className: 'CheckpointingWorker', attachments: { until: 2, stepMs: 5 } })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    await waitFor(async () => (await api.call<Task>('GET', '/api/tasks/att-valid')).body.lifecycleStatus === 'Finished', 'att-valid to finish', 20_000, 50)
  })

  void it('a class no node has is stored unchecked (201)', async () => {
    const r = await api.call<Task>('POST', '/api/tasks/', { id: 'att-unknown-class', className: 'NoNodeHasThisClass', attachments: { until: 'anything' } })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.deepEqual((await api.call<Task>('GET', '/api/tasks/att-unknown-class')).body.attachments, { until: 'anything' })
    await api.call('DELETE', '/api/tasks/att-unknown-class')
  })

  void it('PUT attachments with a bad value is a 400 and stores nothing; a good one is taken', async () => {
    const id = 'att-update'
    assert.equal((await api.call('POST', '/api/tasks/', { id, className: 'CheckpointingWorker', attachments: { until: 100_000 } })).status, 201)
    const bad = await api.call<ErrorBody>('PUT', `/api/tasks/${id}/attachments`, { attachments: { until: -5 } })
    assert.equal(bad.status, 400, JSON.stringify(bad.body))
    assert.equal(bad.body.code, 'E_ATTACHMENTS_INVALID')
    assert.deepEqual(bad.body.details.map((d) => d.field), ['attachments.until'])
    assert.deepEqual((await api.call<Task>('GET', `/api/tasks/${id}`)).body.attachments, { until: 100_000 }, 'nothing stored')
    const emptied = await api.call<ErrorBody>('PUT', `/api/tasks/${id}/attachments`, { attachments: null })
    assert.equal(emptied.status, 400, 'no attachments are {} to the worker, which needs until')
    const good = await api.call('PUT', `/api/tasks/${id}/attachments`, { attachments: { until: 200_000, stepMs: 10 } })
    assert.equal(good.status, 200, JSON.stringify(good.body))
    assert.deepEqual((await api.call<Task>('GET', `/api/tasks/${id}`)).body.attachments, { until: 200_000, stepMs: 10 })
    assert.equal((await api.call('PUT', '/api/tasks/att-no-such-task/attachments', { attachments: { until: 0 } })).status, 404, 'a missing task is still a 404')
    await api.call('DELETE', `/api/tasks/${id}`)
  })
})
