// The task manager reporting through the state publisher: a node's runs appear in Skalds' keys as the Python
// controller reads them (memory backend, memory bus, SQLite, inline host).
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { MemoryBus } from '../../src/bus/memory.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createMemorySkaldStateBackend } from '../../src/state/memory.ts'
import { createSkaldStatePublisher } from '../../src/state/publisher.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'
import { runEndingOf, stateTaskReporter } from '../../src/skald/state-reporter.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { createWorkerHost } from '../../src/worker/create-host.ts'
import { createAndAssign, publish, startNode, taskId, Topic } from '../helpers/skald-node.ts'
import { waitFor } from '../helpers/wait.ts'

const bus = new MemoryBus({ logger: silentLogger })
const store = SqliteTaskStore.open({ path: ':memory:' })
const backend = createMemorySkaldStateBackend()
const publisher = createSkaldStatePublisher(backend, { periodMs: 50 })
const reader = createSkaldStateReader(backend)
const errors: unknown[] = []
await publisher.register({ skaldId: 'node-r', mode: 'node', classNames: ['NormalWorker', 'SlowWorker'] })
publisher.startTicking()
const node = await startNode('node-r', bus, store, {
  createHost: () => createWorkerHost('inline', { graceMs: 1000, aliveIntervalMs: 50 }),
  reporter: stateTaskReporter(publisher, (e) => errors.push(e)),
})
after(async () => {
  await node.manager.close()
  await publisher.close()
  await bus.close()
  await store.close()
  await backend.close()
})

void it('endings map to terminal codes; paused, requeued and superseded write none', () => {
  assert.deepEqual(runEndingOf({ status: 'failed', error: 'boom' }), { status: 'failed', message: 'boom' })
  for (const status of ['paused', 'requeued', 'superseded'] as const) assert.deepEqual(runEndingOf({ status }), { status: 'released' })
})

void it('a finished run reads 200 with its log, a cancelled one -2, and a running one a live heartbeat in all-task', async () => {
  const done = taskId('rep-finish')
  await createAndAssign(bus, store, 'node-r', { id: done, className: 'NormalWorker', attachments: { steps: 2 } })
  await node.ended(done)
  await waitFor(async () => (await reader.task(done)).heartbeat === 200, 'the finished code')
  // The worker's log reaches the task's own log key (flushed with the ending at the latest), tagged by source.
  const log = (await reader.task(done)).log
  assert.ok(log.some((line) => line.startsWith('[logger] ') && line.includes('"hook":"main"')), log.join('\n'))

  const slow = taskId('rep-slow')
  await createAndAssign(bus, store, 'node-r', { id: slow, className: 'SlowWorker' })
  await waitFor(async () => (await reader.node('node-r'))?.allTasks.tasks.some((t) => t.id === slow) === true, 'the run in all-task')
  const first = (await reader.task(slow)).heartbeat
  await waitFor(async () => (await reader.task(slow)).heartbeat !== first, 'the heartbeat to change')
  const beat = (await reader.task(slow)).heartbeat
  assert.ok(beat >= 0 && beat <= 199, `running heartbeat ${beat} in 0..199`)
  await publish(bus, Topic.TaskCancel, slow)
  await node.ended(slow)
  await waitFor(async () => (await reader.task(slow)).heartbeat === -2, 'the cancelled code')
  assert.deepEqual(errors, [])
})
