// The node-mode TaskWorkerManager on the memory bus and an in-memory SQLite store, with the inline host (fast);
// the process-host paths are in skald-task-manager-process.test.ts. The TaskReporter is a recording fake.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { MemoryBus } from '../../src/bus/memory.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { createWorkerHost } from '../../src/worker/create-host.ts'
import { createAndAssign, publish, startNode, taskId, TASK_PAUSE_TOPIC, Topic, type TestNode } from '../helpers/skald-node.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const bus = new MemoryBus({ logger: silentLogger })
const store = SqliteTaskStore.open({ path: ':memory:' })
const inline = { createHost: () => createWorkerHost('inline', { graceMs: 1000, aliveIntervalMs: 50 }) }
let node: TestNode

before(async () => {
  node = await startNode('node-a', bus, store, { ...inline, fenceIntervalMs: 50 })
})
after(async () => {
  await node.manager.close()
  await bus.close()
  await store.close()
})

void describe('TaskWorkerManager (inline host, memory bus, SQLite)', () => {
  void it('assign → run → Finished, hooks in order, reporter told started … ended', async () => {
    const id = taskId('finish')
    const claimed = await createAndAssign(bus, store, 'node-a', { id, className: 'NormalWorker', attachments: { steps: 2 } })
    const task = await node.ended(id)
    assert.equal(task.lifecycleStatus, 'Finished')
    assert.equal(task.runtime.attempt, 1)
    assert.equal(task.runtime.epoch, claimed.runtime.epoch)
    assert.deepEqual(node.hooks(id), ['before', 'main', 'after', 'release'])
    const calls = node.reporter.of(id)
    assert.deepEqual(calls[0], { call: 'started', taskId: id, epoch: claimed.runtime.epoch, className: 'NormalWorker' })
    assert.deepEqual(calls.at(-1), { call: 'ended', taskId: id, epoch: claimed.runtime.epoch, ending: { status: 'finished' } })
    assert.ok(calls.some((c) => c.call === 'progress'))
  })

  void it('a duplicate assign starts nothing; cancel ends the task Cancelled', async () => {
    const id = taskId('dup')
    await createAndAssign(bus, store, 'node-a', { id, className: 'SlowWorker' })
    await node.waitEvent((e) => e.type === 'task-started' && e.taskId === id, 'start')
    await publish(bus, Topic.TaskAssign, id)
    await node.waitEvent((e) => e.type === 'assign-ignored' && e.taskId === id, 'duplicate ignored')
    assert.equal(node.events.filter((e) => e.type === 'task-started' && e.taskId === id).length, 1)
    assert.equal((await store.get(id))!.lifecycleStatus, 'Running')
    await publish(bus, Topic.TaskCancel, id)
    const task = await node.ended(id)
    assert.equal(task.lifecycleStatus, 'Cancelled')
    assert.deepEqual(node.reporter.of(id).at(-1), { call: 'ended', taskId: id, epoch: task.runtime.epoch, ending: { status: 'cancelled' } })
  })

  void it('ignores a task whose executor is another node, and writes nothing', async () => {
    const id = taskId('other')
    const claimed = await createAndAssign(bus, store, 'node-z', { id, className: 'NormalWorker' })
    const e = await node.waitEvent((x) => x.type === 'assign-ignored' && x.taskId === id, 'ignored')
    assert.deepEqual(e, { type: 'assign-ignored', taskId: id, reason: 'other-executor' })
    assert.deepEqual(await store.get(id), claimed)
  })

  void it('an unknown class fails the task with the reason; the node keeps running', async () => {
    const id = taskId('unknown')
    await createAndAssign(bus, store, 'node-a', { id, className: 'NoSuchWorker' })
    const rejected = await node.waitEvent((e) => e.type === 'task-rejected' && e.taskId === id, 'rejected')
    const task = (await store.get(id))!
    assert.equal(task.lifecycleStatus, 'Failed')
    assert.match(task.runtime.lastError ?? '', /^E_SKALD_UNKNOWN_CLASS: class "NoSuchWorker" is not registered on node node-a/)
    assert.ok(rejected.type === 'task-rejected' && rejected.reason === task.runtime.lastError)
    const next = taskId('after-unknown')
    await createAndAssign(bus, store, 'node-a', { id: next, className: 'NormalWorker', attachments: { steps: 1 } })
    assert.equal((await node.ended(next)).lifecycleStatus, 'Finished')
  })

  void it('attachments failing the schema fail the task with the reason, without retries', async () => {
    const id = taskId('bad-att')
    await createAndAssign(bus, store, 'node-a', { id, className: 'NormalWorker', attachments: { steps: 'three' }, runtime: { maxRetries: 3 } })
    const task = await node.ended(id)
    assert.equal(task.lifecycleStatus, 'Failed')
    assert.match(task.runtime.lastError ?? '', /^E_WORKER_ATTACHMENTS: .*steps/)
    assert.equal(task.runtime.attempt, 1)
  })

  void it('a live update reaches the worker (latency logged); an invalid one is rejected with its reason recorded', async () => {
    const id = taskId('update')
    await createAndAssign(bus, store, 'node-a', { id, className: 'UpdatingWorker', attachments: { rtspUrl: 'rtsp://a', fixFrame: 10 } })
    await node.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    const latencies: number[] = []
    for (const fixFrame of [20, 21, 22]) {
      await store.update(id, { attachments: { rtspUrl: 'rtsp://b', fixFrame } })
      const from = node.events.length
      const sent = performance.now()
      await publish(bus, Topic.TaskUpdateAttachment, id)
      const hook = await waitFor(() => node.events.findIndex((e, i) => i >= from && e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'update') + 1, 'update hook')
      latencies.push(node.at[hook - 1]! - sent)
      await node.waitEvent((e) => e.type === 'update-forwarded' && e.taskId === id && node.events.indexOf(e) >= from, 'forwarded')
    }
    console.log(`# update event → update hook (inline, memory bus, SQLite): ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`)
    await store.update(id, { attachments: { rtspUrl: 'rtsp://c', fixFrame: 13 } })
    await publish(bus, Topic.TaskUpdateAttachment, id)
    const rejected = await node.waitEvent((e) => e.type === 'update-forwarded' && e.taskId === id && !e.accepted, 'rejected')
    assert.ok(rejected.type === 'update-forwarded')
    assert.match(rejected.reason ?? '', /fixFrame 13 is unlucky/)
    await waitFor(async () => (await store.get(id))!.runtime.lastError?.startsWith('E_SKALD_UPDATE_REJECTED'), 'lastError recorded')
    const before = node.workerEvents(id).length
    await waitFor(() => node.workerEvents(id).slice(before).some((e) => e.type === 'progress'), 'progress after rejection')
    const last = node.workerEvents(id).filter((e) => e.type === 'progress').at(-1)!
    assert.ok(last.type === 'progress')
    assert.deepEqual(JSON.parse(last.message!), { rtspUrl: 'rtsp://b', fixFrame: 22 }, 'the worker kept its old values')
    await publish(bus, Topic.TaskCancel, id)
    assert.equal((await node.ended(id)).lifecycleStatus, 'Cancelled')
  })

  void it('retries a failing task with backoff up to the limit, then Failed', async () => {
    const id = taskId('retry')
    await createAndAssign(bus, store, 'node-a', { id, className: 'ThrowingWorker' })
    const task = await node.ended(id)
    assert.equal(task.lifecycleStatus, 'Failed')
    assert.equal(task.runtime.attempt, 3, 'first run + 2 retries (the class limit)')
    assert.match(task.runtime.lastError ?? '', /boom from main/)
    const retries = node.events.filter((e) => e.type === 'task-retrying' && e.taskId === id)
    assert.deepEqual(retries.map((e) => (e.type === 'task-retrying' ? e.delayMs : 0)), [10, 20])
    assert.equal(node.events.filter((e) => e.type === 'task-started' && e.taskId === id).length, 3)
    const endings = node.reporter.of(id).filter((c) => c.call === 'ended')
    assert.equal(endings.length, 1)
  })

  void it('fencing: when another node claims the running task, it is aborted as superseded and nothing is written', async () => {
    const id = taskId('fence')
    await createAndAssign(bus, store, 'node-a', { id, className: 'SlowWorker' })
    await node.waitEvent((e) => e.type === 'task-started' && e.taskId === id, 'start')
    const stolen = await store.claim(id, { executor: 'node-b' })
    const end = await node.waitEvent((e) => e.type === 'task-ended' && e.taskId === id, 'superseded', 5000)
    assert.ok(end.type === 'task-ended' && end.status === 'superseded')
    const release = node.logged(id).find((l) => l.hook === 'release')
    assert.equal(release?.reason, 'superseded')
    await sleep(150)
    assert.deepEqual(await store.get(id), stolen, 'node-a wrote nothing after the claim')
    assert.deepEqual(node.reporter.of(id).at(-1)?.call === 'ended' && node.reporter.of(id).at(-1), { call: 'ended', taskId: id, epoch: stolen.runtime.epoch - 1, ending: { status: 'superseded' } })
  })

  void it('a re-claim for the same node supersedes the old run and starts the new assignment', async () => {
    const id = taskId('reclaim')
    const first = await createAndAssign(bus, store, 'node-a', { id, className: 'SlowWorker' })
    await node.waitEvent((e) => e.type === 'task-started' && e.taskId === id, 'start')
    const second = await store.claim(id, { executor: 'node-a' })
    await publish(bus, Topic.TaskAssign, id)
    const restarted = await node.waitEvent((e) => e.type === 'task-started' && e.taskId === id && e.epoch === second.runtime.epoch, 'run under the new epoch', 5000)
    assert.ok(restarted.type === 'task-started' && restarted.epoch === first.runtime.epoch + 1)
    assert.ok(node.events.some((e) => e.type === 'task-ended' && e.taskId === id && e.epoch === first.runtime.epoch && e.status === 'superseded'))
    await publish(bus, Topic.TaskCancel, id)
    await waitFor(async () => (await store.get(id))!.lifecycleStatus === 'Cancelled', 'Cancelled')
  })

  void it('pause keeps the checkpoint with the task (Paused)', async () => {
    const id = taskId('pause')
    await createAndAssign(bus, store, 'node-a', { id, className: 'CheckpointingWorker', attachments: { until: 10_000, stepMs: 5 } })
    await node.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'checkpoint', 'a checkpoint')
    await publish(bus, TASK_PAUSE_TOPIC, id)
    const task = await node.ended(id)
    assert.equal(task.lifecycleStatus, 'Paused')
    const last = node.workerEvents(id).filter((e) => e.type === 'checkpoint').at(-1)
    assert.ok(last?.type === 'checkpoint')
    assert.deepEqual(task.runtime.checkpoint, last.state)
    assert.ok(task.runtime.pausedAt !== null)
  })
})

void describe('TaskWorkerManager limits and drain', () => {
  void it('a full node sends the task back to Created, unassigned, with the reason', async () => {
    const local = new MemoryBus({ logger: silentLogger })
    const full = await startNode('node-full', local, store, { ...inline, limits: { maxTasks: 1 } })
    const a = taskId('cap-a')
    const b = taskId('cap-b')
    await createAndAssign(local, store, 'node-full', { id: a, className: 'SlowWorker' })
    await full.waitEvent((e) => e.type === 'task-started' && e.taskId === a, 'a started')
    await createAndAssign(local, store, 'node-full', { id: b, className: 'SlowWorker' })
    await full.waitEvent((e) => e.type === 'task-rejected' && e.taskId === b, 'b refused')
    const task = (await store.get(b))!
    assert.equal(task.lifecycleStatus, 'Created')
    assert.equal(task.executor, null)
    assert.match(task.runtime.lastError ?? '', /^E_SKALD_CAPACITY: node node-full is full \(1\/1 tasks\)/)
    await full.manager.drain(100)
    await local.close()
  })

  void it('drain on close: persistent tasks back to Created unassigned (never Cancelled), non-persistent Failed', async () => {
    const local = new MemoryBus({ logger: silentLogger })
    const draining = await startNode('node-drain', local, store, inline)
    const p = taskId('drain-p')
    const n = taskId('drain-n')
    const quick = taskId('drain-quick')
    await createAndAssign(local, store, 'node-drain', { id: p, className: 'CheckpointingWorker', attachments: { until: 10_000, stepMs: 5 } })
    await createAndAssign(local, store, 'node-drain', { id: n, className: 'SlowWorker', isPersistent: false })
    await createAndAssign(local, store, 'node-drain', { id: quick, className: 'SlowWorker', attachments: { ms: 150 } })
    await draining.waitEvent((e) => e.type === 'worker' && e.taskId === p && e.event.type === 'checkpoint', 'p checkpointed')
    await draining.waitEvent((e) => e.type === 'task-started' && e.taskId === n, 'n started')
    await draining.waitEvent((e) => e.type === 'task-started' && e.taskId === quick, 'quick started')
    await draining.manager.drain(500)
    const [tp, tn, tq] = await Promise.all([store.get(p), store.get(n), store.get(quick)])
    assert.equal(tq!.lifecycleStatus, 'Finished', 'a task that ends within the drain timeout finishes')
    assert.equal(tp!.lifecycleStatus, 'Created')
    assert.equal(tp!.executor, null)
    assert.notEqual(tp!.runtime.checkpoint, null, 'the checkpoint is kept for the next node')
    assert.equal(tn!.lifecycleStatus, 'Failed')
    assert.match(tn!.runtime.lastError ?? '', /^E_SKALD_SHUTDOWN/)
    assert.deepEqual(draining.reporter.of(p).at(-1), { call: 'ended', taskId: p, epoch: tp!.runtime.epoch, ending: { status: 'requeued' } })
    // Stopped taking work: a new assignment is not even read.
    const late = taskId('drain-late')
    await createAndAssign(local, store, 'node-drain', { id: late, className: 'NormalWorker' })
    await sleep(50)
    assert.equal((await store.get(late))!.lifecycleStatus, 'Assigning')
    await local.close()
  })
})
