// A node-mode Skald publishes its classes' attachments as JSON Schema after it registered: a class whose module
// cannot be loaded is published as null and never fails the start; `publishAttachmentSchemas: false` publishes
// none. Memory bus, SQLite, the in-process state backend.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { embeddedEngines, SKALD_FIXTURES, startSkald } from '../helpers/skald-run.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
const { bus, store, state, reader, started } = engines
after(() => engines.close())
const hostOptions = { graceMs: 1000, poolSize: 1 }

void describe('Skald: class schemas', () => {
  void it('publishes each class\'s input JSON Schema; a class that cannot be loaded is null and the Skald runs', async () => {
    const workers = { ...SKALD_FIXTURES, Missing: { worker: { module: '/nowhere/no-such-worker.ts' } } }
    const s = await startSkald({ skaldId: 'schemas-on', bus, store, state, syncPeriodMs: 50, hostOptions, workers })
    started.push(s)
    const schemas = await waitFor(async () => (await reader.node('schemas-on'))?.classSchemas, 'class schemas published')
    assert.deepEqual(Object.keys(schemas).sort(), Object.keys(workers).sort())
    const checkpointing = schemas.CheckpointingWorker!.attachments!
    assert.deepEqual(checkpointing.required, ['until'])
    assert.deepEqual((checkpointing.properties as Record<string, unknown>).stepMs, { default: 20, type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
    assert.equal(schemas.Missing!.attachments, null)
    assert.ok(schemas.InlineNormal!.attachments, 'inline classes too')
    assert.ok(schemas.Missing!.timestamp > 0)
  })

  void it('publishAttachmentSchemas: false publishes none (and removes what an earlier run with the id left)', async () => {
    const first = await startSkald({ skaldId: 'schemas-off', bus, store, state, syncPeriodMs: 50, hostOptions })
    await waitFor(async () => (await reader.node('schemas-off'))?.classSchemas, 'class schemas of the first run')
    await first.skald.stop(1000)
    const s = await startSkald({ skaldId: 'schemas-off', bus, store, state, syncPeriodMs: 50, hostOptions, publishAttachmentSchemas: false })
    started.push(s)
    await sleep(300)
    assert.equal((await reader.node('schemas-off'))!.classSchemas, undefined)
  })
})
