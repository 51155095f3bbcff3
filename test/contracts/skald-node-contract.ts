// The node-mode TaskWorkerManager contract: the same scenarios on every bus + store pair (skald-task-manager.test.ts:
// Redis Streams + MongoDB, Kafka + SQLite, Kafka + MongoDB). Two nodes, each with its own bus and store connection as
// two processes would have, and a third pair for the test itself, playing the controller. Process host; the
// TaskReporter is the recording fake of test/helpers/skald-node.ts. Also an update under each isolation mode, and crashes.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { EventBus } from '../../src/bus/types.ts'
import type { TaskStore } from '../../src/store/task-store.ts'
import { createAndAssign, FIXTURE_CLASSES, publish, startNode, taskId, TASK_PAUSE_TOPIC, Topic, type TestNode } from '../helpers/skald-node.ts'
import { fixture } from '../helpers/worker-run.ts'
import { sleep } from '../helpers/wait.ts'

/** How a contract run reaches one bus + store pair. */
export interface SkaldNodeHarness {
  /** A new, independent bus (its own connections), as another process would have. Isolated from other runs. */
  openBus(): Promise<EventBus>
  /** A new, independent connection to the run's task data. */
  openStore(): Promise<TaskStore>
  /** Removes what the run created; called once at the end, after every bus and store was closed. */
  cleanup(): Promise<void>
}

const FENCE_INTERVAL_MS = 200
/** The fixtures, plus the updating worker under each isolation and the crashing ones. */
const CONTRACT_CLASSES = {
  ...FIXTURE_CLASSES,
  UpdatingInline: { worker: fixture('updating'), isolation: 'inline' },
  UpdatingThread: { worker: fixture('updating'), isolation: 'thread' },
  UpdatingProcess: { worker: fixture('updating'), isolation: 'process' },
  Exit3Worker: { worker: fixture('exit-3') },
  KillsSelfWorker: { worker: fixture('kills-self') },
} as const
const hostOptions = { graceMs: 2000, poolSize: 1 }

export function skaldNodeContract(name: string, makeHarness: () => Promise<SkaldNodeHarness>): void {
  void describe(`TaskWorkerManager contract: ${name} (process host)`, () => {
    let harness: SkaldNodeHarness
    const buses: EventBus[] = []
    const stores: TaskStore[] = []
    /** the controller's connections: the test creates, claims and publishes through them */
    let bus: EventBus
    let store: TaskStore
    let n1: TestNode
    let n2: TestNode
    // Unique per run: on Kafka the node's group (`skalds-node-<id>`) outlives the run.
    const run = randomUUID().slice(0, 8)
    const node1 = `node-1-${run}`
    const node2 = `node-2-${run}`

    const open = async (): Promise<{ bus: EventBus; store: TaskStore }> => {
      const pair = { bus: await harness.openBus(), store: await harness.openStore() }
      buses.push(pair.bus)
      stores.push(pair.store)
      return pair
    }
    const mainHook = (node: TestNode, id: string) =>
      node.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', `${id}: main on ${node.manager.skaldId}`)

    before(async () => {
      harness = await makeHarness()
      ;({ bus, store } = await open())
      const [a, b] = await Promise.all([open(), open()])
      ;[n1, n2] = await Promise.all([
        startNode(node1, a.bus, a.store, { hostOptions, fenceIntervalMs: FENCE_INTERVAL_MS, workers: CONTRACT_CLASSES }),
        startNode(node2, b.bus, b.store, { hostOptions, fenceIntervalMs: FENCE_INTERVAL_MS, workers: CONTRACT_CLASSES }),
      ])
    })
    after(async () => {
      await Promise.all([n1?.manager.close(), n2?.manager.close()])
      await Promise.all(buses.map((b) => b.close()))
      await Promise.all(stores.map((s) => s.close()))
      await harness?.cleanup()
    })

    void it('assign → run → Finished, hooks in order; the other node ignores it', async () => {
      const id = taskId('finish')
      const claimed = await createAndAssign(bus, store, node1, { id, className: 'NormalWorker', attachments: { steps: 2 } })
      const task = await n1.ended(id)
      assert.equal(task.lifecycleStatus, 'Finished')
      assert.equal(task.runtime.epoch, claimed.runtime.epoch)
      assert.deepEqual(n1.hooks(id), ['before', 'main', 'after', 'release'])
      assert.deepEqual(n1.reporter.of(id)[0], { call: 'started', taskId: id, epoch: claimed.runtime.epoch, className: 'NormalWorker' })
      assert.deepEqual(n1.reporter.of(id).at(-1), { call: 'ended', taskId: id, epoch: claimed.runtime.epoch, ending: { status: 'finished' } })
      await n2.waitEvent((e) => e.type === 'assign-ignored' && e.taskId === id && e.reason === 'other-executor', `${node2} to ignore ${id}`)
    })

    void it('cancel → Cancelled, release ran with reason cancelled (latency logged)', async () => {
      const id = taskId('cancel')
      await createAndAssign(bus, store, node1, { id, className: 'SlowWorker' })
      await mainHook(n1, id)
      const sent = performance.now()
      await publish(bus, Topic.TaskCancel, id)
      const task = await n1.ended(id)
      console.log(`# cancel event → task Cancelled in the store (process, ${name}): ${(performance.now() - sent).toFixed(1)} ms`)
      assert.equal(task.lifecycleStatus, 'Cancelled')
      assert.equal(n1.logged(id).find((l) => l.hook === 'release')?.reason, 'cancelled')
      assert.deepEqual(n1.reporter.of(id).at(-1), { call: 'ended', taskId: id, epoch: task.runtime.epoch, ending: { status: 'cancelled' } })
    })

    void it('a live update reaches the child worker (latency logged)', async () => {
      const id = taskId('update')
      await createAndAssign(bus, store, node1, { id, className: 'UpdatingWorker', attachments: { rtspUrl: 'rtsp://a', fixFrame: 1 } })
      await mainHook(n1, id)
      const latencies: number[] = []
      for (const fixFrame of [2, 3, 4, 5, 6]) {
        await store.update(id, { attachments: { rtspUrl: 'rtsp://a', fixFrame } })
        const from = n1.events.length
        const sent = performance.now()
        await publish(bus, Topic.TaskUpdateAttachment, id)
        await n1.waitEvent((e) => e.type === 'update-forwarded' && e.taskId === id && n1.events.indexOf(e) >= from, `update ${fixFrame} forwarded`)
        const at = n1.events.findIndex((e, i) => i >= from && e.type === 'worker' && e.event.type === 'hook' && e.event.hook === 'update')
        assert.ok(at >= 0, `update hook for fixFrame ${fixFrame}`)
        latencies.push(n1.at[at]! - sent)
      }
      console.log(`# update event → update hook (process, ${name}): ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`)
      assert.deepEqual(
        n1.logged(id).flatMap((l) => (l.hook === 'update' ? [l.to] : [])),
        [2, 3, 4, 5, 6],
      )
      await publish(bus, Topic.TaskCancel, id)
      assert.equal((await n1.ended(id)).lifecycleStatus, 'Cancelled')
    })

    void it('a live update reaches the worker in each isolation mode (inline, thread, process)', async () => {
      for (const className of ['UpdatingInline', 'UpdatingThread', 'UpdatingProcess']) {
        const id = taskId(className)
        await createAndAssign(bus, store, node1, { id, className, attachments: { rtspUrl: 'rtsp://a', fixFrame: 1 } })
        await mainHook(n1, id)
        await store.update(id, { attachments: { rtspUrl: 'rtsp://b', fixFrame: 2 } })
        const sent = performance.now()
        await publish(bus, Topic.TaskUpdateAttachment, id)
        await n1.waitEvent((e) => e.type === 'update-forwarded' && e.taskId === id && e.accepted, `${className}: update accepted`)
        const at = n1.events.findIndex((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'update')
        console.log(`# update event → update hook (${className}, ${name}): ${(n1.at[at]! - sent).toFixed(1)} ms`)
        assert.deepEqual(n1.logged(id).find((l) => l.hook === 'update')?.to, 2, className)
        await publish(bus, Topic.TaskCancel, id)
        assert.equal((await n1.ended(id)).lifecycleStatus, 'Cancelled', className)
      }
    })

    void it('a child that exits with 3 or kills itself (SIGSEGV) → Failed with the exit code or signal and its last stderr line', async () => {
      const cases = [
        ['Exit3Worker', {}, /exit code 3/, 'about to exit with 3'],
        ['KillsSelfWorker', { signal: 'SIGSEGV' }, /signal SIGSEGV/, 'sending myself SIGSEGV'],
      ] as const
      for (const [className, attachments, status, stderr] of cases) {
        const id = taskId(className)
        await createAndAssign(bus, store, node1, { id, className, attachments })
        const task = await n1.ended(id)
        assert.equal(task.lifecycleStatus, 'Failed', className)
        assert.match(task.runtime.lastError ?? '', status)
        assert.ok(task.runtime.lastError?.includes(stderr), `${className}: ${task.runtime.lastError}`)
        const ended = n1.reporter.of(id).at(-1)
        assert.ok(ended?.call === 'ended' && ended.ending.status === 'failed', className)
      }
    })

    void it('pause → Paused with its checkpoint; claimed for the second node and assigned, it resumes from it', async () => {
      const id = taskId('pause')
      // Long enough (150 × 20 ms) that the pause lands mid-run whatever the bus' latency.
      await createAndAssign(bus, store, node1, { id, className: 'CheckpointingWorker', attachments: { until: 150, stepMs: 20 } })
      await n1.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'checkpoint' && (e.event.state as { i: number }).i >= 3, 'three checkpoints')
      await publish(bus, TASK_PAUSE_TOPIC, id)
      const paused = await n1.ended(id)
      assert.equal(paused.lifecycleStatus, 'Paused')
      assert.ok(paused.runtime.pausedAt !== null)
      const cp = paused.runtime.checkpoint as { i: number }
      assert.ok(cp.i >= 3 && cp.i < 150, `checkpoint ${JSON.stringify(cp)}`)
      assert.equal(n1.logged(id).find((l) => l.hook === 'release')?.reason, 'paused')
      assert.deepEqual(n1.reporter.of(id).at(-1), { call: 'ended', taskId: id, epoch: paused.runtime.epoch, ending: { status: 'paused' } })
      // Resume, as a dispatcher does: claim the Paused task for the second node, then assign it.
      const claimed = await store.claim(id, { executor: node2, expectStatus: 'Paused' })
      assert.equal(claimed.runtime.epoch, paused.runtime.epoch + 1)
      await publish(bus, Topic.TaskAssign, id)
      const done = await n2.ended(id, 30_000)
      assert.equal(done.lifecycleStatus, 'Finished')
      assert.equal(done.executor, node2)
      assert.equal(done.runtime.attempt, 2)
      assert.deepEqual(n2.logged(id).find((l) => l.hook === 'before')?.resumedFrom, cp, 'ctx.resumedFrom is the checkpoint')
      const first = n2.workerEvents(id).find((e) => e.type === 'checkpoint')
      assert.ok(first?.type === 'checkpoint')
      assert.deepEqual(first.state, { i: cp.i + 1 }, `${node2} continued after the checkpoint, not from 0`)
      assert.ok(n1.events.some((e) => e.type === 'assign-ignored' && e.taskId === id && e.reason === 'other-executor'), `${node1} ignored the new assignment`)
    })

    void it('fencing: the task claimed for another node while it runs → the run aborts as superseded and writes nothing', async () => {
      const id = taskId('fence')
      const claimed = await createAndAssign(bus, store, node1, { id, className: 'SlowWorker' })
      await mainHook(n1, id)
      // Claimed by a dispatcher for the other node, without an event: the first node must notice on its own.
      const stolen = await store.claim(id, { executor: node2 })
      const end = await n1.waitEvent((e) => e.type === 'task-ended' && e.taskId === id, `${id} superseded on ${node1}`, 5000)
      assert.ok(end.type === 'task-ended' && end.status === 'superseded')
      assert.equal(n1.logged(id).find((l) => l.hook === 'release')?.reason, 'superseded')
      // The only writer left would be a fence tick: give it two intervals to (wrongly) write.
      await sleep(2 * FENCE_INTERVAL_MS)
      assert.deepEqual(await store.get(id), stolen, `${node1} wrote nothing after the claim`)
      assert.deepEqual(
        n1.reporter.of(id).filter((c) => c.call === 'ended'),
        [{ call: 'ended', taskId: id, epoch: claimed.runtime.epoch, ending: { status: 'superseded' } }],
      )
    })
  })
}
