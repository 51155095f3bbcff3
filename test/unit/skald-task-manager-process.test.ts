// The node-mode TaskWorkerManager with real child processes (the process host): hook order, a live update,
// cancel, fencing, and a pause on one node resumed from its checkpoint on a second node. Memory bus, SQLite.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { MemoryBus } from '../../src/bus/memory.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { createAndAssign, publish, startNode, taskId, TASK_PAUSE_TOPIC, Topic, type TestNode } from '../helpers/skald-node.ts'
import { sleep, waitFor } from '../helpers/wait.ts'
import { processExists } from '../helpers/worker-run.ts'

const bus = new MemoryBus({ logger: silentLogger })
const store = SqliteTaskStore.open({ path: ':memory:' })
const hostOptions = { graceMs: 2000, poolSize: 1 }
let a: TestNode
let b: TestNode

before(async () => {
  a = await startNode('node-a', bus, store, { hostOptions, fenceIntervalMs: 100 })
  b = await startNode('node-b', bus, store, { hostOptions, fenceIntervalMs: 100 })
})
after(async () => {
  await Promise.all([a.manager.close(), b.manager.close()])
  await bus.close()
  await store.close()
})

void describe('TaskWorkerManager (process host, memory bus, SQLite)', () => {
  void it('runs a task in a child process: hooks in order, Finished; the other node ignores it', async () => {
    const id = taskId('p-finish')
    await createAndAssign(bus, store, 'node-a', { id, className: 'NormalWorker', attachments: { steps: 2, label: 'p' } })
    const task = await a.ended(id)
    assert.equal(task.lifecycleStatus, 'Finished')
    assert.deepEqual(a.hooks(id), ['before', 'main', 'after', 'release'])
    assert.deepEqual(a.logged(id).map((l) => l.hook), ['before', 'main', 'after', 'release'])
    const started = a.workerEvents(id).find((e) => e.type === 'started')
    assert.ok(started?.type === 'started' && typeof started.pid === 'number' && started.pid !== process.pid)
    await b.waitEvent((e) => e.type === 'assign-ignored' && e.taskId === id, 'node-b ignores it')
  })

  void it('a live update reaches the child worker (latency logged); cancel ends it Cancelled and the child is gone', async () => {
    const id = taskId('p-update')
    await createAndAssign(bus, store, 'node-a', { id, className: 'UpdatingWorker', attachments: { rtspUrl: 'rtsp://a', fixFrame: 1 } })
    await a.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    const latencies: number[] = []
    for (const fixFrame of [2, 3, 4, 5, 6]) {
      await store.update(id, { attachments: { rtspUrl: 'rtsp://a', fixFrame } })
      const from = a.events.length
      const sent = performance.now()
      await publish(bus, Topic.TaskUpdateAttachment, id)
      const at = await waitFor(() => a.events.findIndex((e, i) => i >= from && e.type === 'worker' && e.event.type === 'hook' && e.event.hook === 'update') + 1, 'update hook')
      latencies.push(a.at[at - 1]! - sent)
      await a.waitEvent((e) => e.type === 'update-forwarded' && e.taskId === id && a.events.indexOf(e) >= from, 'forwarded')
    }
    console.log(`# update event → update hook (process, memory bus, SQLite): ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`)
    const started = a.workerEvents(id).find((e) => e.type === 'started')
    assert.ok(started?.type === 'started' && started.pid !== null)
    await publish(bus, Topic.TaskCancel, id)
    const task = await a.ended(id)
    assert.equal(task.lifecycleStatus, 'Cancelled')
    assert.equal(processExists(started.pid), false)
  })

  void it('fencing: another node claims the running task → the child is aborted (superseded) and node-a writes nothing', async () => {
    const id = taskId('p-fence')
    await createAndAssign(bus, store, 'node-a', { id, className: 'SlowWorker' })
    await a.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    // Claimed by a dispatcher for node-b, without an assign event: node-a must notice on its own.
    const stolen = await store.claim(id, { executor: 'node-b' })
    const end = await a.waitEvent((e) => e.type === 'task-ended' && e.taskId === id, 'superseded', 5000)
    assert.ok(end.type === 'task-ended' && end.status === 'superseded')
    assert.equal(a.logged(id).find((l) => l.hook === 'release')?.reason, 'superseded')
    await sleep(200)
    assert.deepEqual(await store.get(id), stolen)
    assert.equal(a.reporter.of(id).filter((c) => c.call === 'ended').length, 1)
  })

  void it('pause on node-a keeps the checkpoint; node-b resumes from it and finishes', async () => {
    const id = taskId('p-pause')
    await createAndAssign(bus, store, 'node-a', { id, className: 'CheckpointingWorker', attachments: { until: 60, stepMs: 20 } })
    await a.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'checkpoint' && (e.event.state as { i: number }).i >= 3, 'three checkpoints')
    await publish(bus, TASK_PAUSE_TOPIC, id)
    const paused = await a.ended(id)
    assert.equal(paused.lifecycleStatus, 'Paused')
    const cp = paused.runtime.checkpoint as { i: number }
    assert.ok(cp.i >= 3 && cp.i < 60, `checkpoint ${JSON.stringify(cp)}`)
    assert.equal(a.logged(id).find((l) => l.hook === 'release')?.reason, 'paused')
    // Resume: a dispatcher claims the Paused task for node-b and assigns it.
    await store.claim(id, { executor: 'node-b', expectStatus: 'Paused' })
    await publish(bus, Topic.TaskAssign, id)
    const done = await b.ended(id)
    assert.equal(done.lifecycleStatus, 'Finished')
    assert.deepEqual(b.logged(id).find((l) => l.hook === 'before')?.resumedFrom, cp)
    const first = b.workerEvents(id).find((e) => e.type === 'checkpoint')
    assert.ok(first?.type === 'checkpoint')
    assert.deepEqual(first.state, { i: cp.i + 1 }, 'node-b continued after the checkpoint, not from 0')
    assert.equal(done.runtime.attempt, 2)
  })

  void it('close drains: a running persistent task goes back to Created, unassigned', async () => {
    const local = new MemoryBus({ logger: silentLogger })
    const c = await startNode('node-c', local, store, { hostOptions })
    const id = taskId('p-drain')
    await createAndAssign(local, store, 'node-c', { id, className: 'SlowWorker' })
    await c.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    await c.manager.drain(200)
    const task = (await store.get(id))!
    assert.equal(task.lifecycleStatus, 'Created')
    assert.equal(task.executor, null)
    assert.equal(c.logged(id).find((l) => l.hook === 'release')?.reason, 'shutdown')
    await local.close()
  })
})
