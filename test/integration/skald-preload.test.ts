// A node's warm worker processes load the registered classes' modules before their task comes (the default), so a
// task's start does not import its module; `hostOptions.preload` given (here: none) turns that off. Real child
// processes, a real controller dispatching, on the embedded engines.
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { SystemController } from '../../src/controller/system-controller.ts'
import { apiClient, startController, type ApiClient } from '../helpers/controller-api.ts'
import { embeddedEngines, startSkald } from '../helpers/skald-run.ts'
import { waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
const module = new URL('../fixtures/workers/import-time.ts', import.meta.url)
let controller: SystemController
let api: ApiClient

before(async () => {
  controller = await startController(engines)
  api = apiClient(controller.url!)
  const common = { bus: engines.bus, store: engines.store, state: engines.state, syncPeriodMs: 100 }
  engines.started.push(await startSkald({ ...common, skaldId: 'preload-default', workers: { ImportTime: { worker: { module, export: 'ImportTime' } } }, hostOptions: { poolSize: 1, graceMs: 1000 } }))
  engines.started.push(
    await startSkald({ ...common, skaldId: 'preload-none', workers: { ImportTimeLazy: { worker: { module, export: 'ImportTimeLazy' } } }, hostOptions: { poolSize: 1, graceMs: 1000, preload: [] } }),
  )
  await waitFor(async () => (await api.call<{ total: number }>('GET', '/api/skalds/')).body.total === 2, 'both nodes to be seen')
})
after(async () => {
  await controller.stop()
  await engines.close()
})

/** Runs one task of the class; resolves with when its module was imported in the child that ran it. */
async function importTimeOf(className: string): Promise<{ createdAt: number; importedAt: number }> {
  const createdAt = Date.now()
  const created = await api.call<{ id: string }>('POST', '/api/tasks/', { className })
  assert.equal(created.status, 201)
  const id = created.body.id
  const line = await waitFor(async () => {
    const log = await api.call<{ lines: string[] }>('GET', `/api/tasks/${id}/log`)
    return log.body.lines.find((l) => l.includes('"import time"'))
  }, `the ${className} task's report`, 20_000, 50)
  const record = JSON.parse(line.slice(line.indexOf('{'))) as { importedAt: number }
  return { createdAt, importedAt: record.importedAt }
}

void it('a warm child has the worker module loaded before the task exists, unless preload is given', async () => {
  // A node makes its process host (and its warm pool) at its first task of that isolation: run one, then give the
  // pool time to refill (and, by default, preload).
  await importTimeOf('ImportTime')
  await importTimeOf('ImportTimeLazy')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const preloaded = await importTimeOf('ImportTime')
  assert.ok(preloaded.importedAt < preloaded.createdAt, `imported ${preloaded.createdAt - preloaded.importedAt} ms before the task was created`)
  const lazy = await importTimeOf('ImportTimeLazy')
  assert.ok(lazy.importedAt >= lazy.createdAt, `with preload: [] the module is imported at the task's start (${lazy.importedAt - lazy.createdAt} ms after)`)
})
