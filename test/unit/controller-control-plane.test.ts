// The control plane on the embedded engines (memory bus, SQLite, in-process state) with real Skalds (ours, inline
// workers) and a node writing the wire as Python does: dispatch by each strategy with capability and capacity
// respected, priorities, dependencies, deadlines, Python-style heartbeats judged (finished, failed, stalled with
// retries up to the limit), stale terminal codes ignored, failover with its alerts on a real webhook, modes.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { createAlerts } from '../../src/controller/alerts.ts'
import type { ControlEvent } from '../../src/controller/control-events.ts'
import { ControlPlane, type ControlPlaneOptions } from '../../src/controller/control-plane.ts'
import { DISPATCH_STRATEGIES } from '../../src/controller/strategies.ts'
import { TaskCommands } from '../../src/controller/task-commands.ts'
import { taskHeartbeatKey } from '../../src/model/keys.ts'
import type { SkaldOptions } from '../../src/skald/skald.ts'
import type { TaskInput } from '../../src/model/task.ts'
import { PythonStyleNode } from '../helpers/python-style-node.ts'
import { taskId } from '../helpers/skald-node.ts'
import { embeddedEngines, startSkald, type TestSkald } from '../helpers/skald-run.ts'
import { waitFor } from '../helpers/wait.ts'
import { fixture } from '../helpers/worker-run.ts'

const engines = embeddedEngines()
const { bus, store, state } = engines
const planes: ControlPlane[] = []
const pythons: PythonStyleNode[] = []
after(async () => {
  await Promise.all(planes.map((p) => p.stop()))
  await Promise.all(pythons.map((p) => p.stop()))
  await engines.close()
})

const INLINE = {
  NormalWorker: { worker: fixture('normal'), isolation: 'inline' },
  SlowWorker: { worker: fixture('slow'), isolation: 'inline' },
  ThrowingWorker: { worker: fixture('throws'), isolation: 'inline' },
  CheckpointingWorker: { worker: fixture('checkpointing'), isolation: 'inline' },
} as const

let seq = 0
async function node(classes: SkaldOptions['workers'] = INLINE, limits?: { maxTasks?: number; perClass?: Record<string, number> }): Promise<TestSkald> {
  const s = await startSkald({ skaldId: `cp-node-${process.pid}-${++seq}`, bus, store, state, workers: classes, syncPeriodMs: 50, fenceIntervalMs: 200, ...(limits ? { limits } : {}) })
  engines.started.push(s)
  return s
}

async function plane(options: Partial<ControlPlaneOptions> = {}): Promise<{ plane: ControlPlane; events: ControlEvent[] }> {
  const events: ControlEvent[] = []
  const p = new ControlPlane({ store, bus, state, logger: silentLogger, nodeIntervalMs: 100, taskIntervalMs: 100, dispatchIntervalMs: 300, offlineAfterMs: 1000, stallAfterMs: 800, ...options, onEvent: (e) => events.push(e) })
  planes.push(p)
  await p.start()
  return { plane: p, events }
}

async function create(p: ControlPlane, input: Omit<TaskInput, 'source' | 'id'> & { id?: string }): Promise<string> {
  const id = input.id ?? taskId(input.className)
  await store.create({ source: 'test', ...input, id })
  p.kick()
  return id
}

const statusOf = async (id: string): Promise<string | undefined> => (await store.get(id))?.lifecycleStatus
const until = (id: string, status: string, ms = 10_000): Promise<unknown> => waitFor(async () => (await statusOf(id)) === status, `${id} to be ${status}`, ms)

// Every test stops its own control plane, so the next one does not dispatch to its nodes, and cancels what is left
// (a drained node would otherwise hand its tasks back, and the next test's nodes would run them first).
async function done(p: ControlPlane, ...skalds: TestSkald[]): Promise<void> {
  await p.stop()
  const left = await store.list({ lifecycleStatus: ['Created', 'Assigning', 'Running', 'Paused'], limit: 10_000 })
  await Promise.all(left.items.map((t) => store.update(t.id, { lifecycleStatus: 'Cancelled' })))
  await Promise.all(skalds.map((s) => s.skald.stop(500)))
}

void describe('ControlPlane', () => {
  void it('dispatches a created task at once to the node with the class and room; LEAST_TASKS spreads them', async () => {
    const a = await node({ NormalWorker: INLINE.NormalWorker, SlowWorker: INLINE.SlowWorker })
    const b = await node({ SlowWorker: INLINE.SlowWorker }, { maxTasks: 1 })
    const { plane: p, events } = await plane()
    const normal = await create(p, { className: 'NormalWorker', attachments: { steps: 1 } })
    await until(normal, 'Finished')
    assert.equal((await store.get(normal))!.executor, a.skald.id, 'only A has the class')
    const slow = [await create(p, { className: 'SlowWorker' }), await create(p, { className: 'SlowWorker' }), await create(p, { className: 'SlowWorker' })]
    for (const id of slow) await until(id, 'Running')
    const executors = await Promise.all(slow.map(async (id) => (await store.get(id))!.executor))
    assert.equal(executors.filter((e) => e === b.skald.id).length, 1, 'B has room for one task only')
    assert.equal(executors.filter((e) => e === a.skald.id).length, 2)
    const dispatched = events.filter((e) => e.type === 'task-dispatched' && slow.includes(e.taskId))
    assert.equal(dispatched.length, 3, 'each task dispatched once')
    await done(p, a, b)
  })

  void it('every strategy dispatches created tasks to Running within each node\'s capacity', async () => {
    for (const strategy of DISPATCH_STRATEGIES) {
      const a = await node({ SlowWorker: INLINE.SlowWorker }, { maxTasks: 2 })
      const b = await node({ SlowWorker: INLINE.SlowWorker }, { maxTasks: 2 })
      const { plane: p } = await plane({ strategy })
      const ids: string[] = []
      for (let i = 0; i < 4; i++) ids.push(await create(p, { className: 'SlowWorker' }))
      await waitFor(async () => (await store.getMany(ids)).every((t) => t.lifecycleStatus === 'Running'), `${strategy}: all Running`)
      const executors = await Promise.all(ids.map(async (id) => (await store.get(id))!.executor))
      assert.deepEqual([a.skald.id, b.skald.id].map((n) => executors.filter((e) => e === n).length), [2, 2], strategy)
      assert.ok((await store.getMany(ids)).every((t) => t.runtime.epoch === 1), `${strategy}: each dispatched once`)
      await done(p, a, b)
    }
  })

  void it('ROUND_ROBIN rotates; higher priority goes first when room is short', async () => {
    const a = await node({ SlowWorker: INLINE.SlowWorker })
    const b = await node({ SlowWorker: INLINE.SlowWorker })
    const { plane: p, events } = await plane({ strategy: 'ROUND_ROBIN' })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) ids.push(await create(p, { className: 'SlowWorker' }))
    for (const id of ids) await until(id, 'Running')
    const order = events.flatMap((e) => (e.type === 'task-dispatched' && ids.includes(e.taskId) ? [e.executor] : []))
    assert.deepEqual(order, [order[0], order[1], order[0], order[1]])
    assert.notEqual(order[0], order[1])
    await done(p, a, b)

    const c = await node({ SlowWorker: INLINE.SlowWorker }, { maxTasks: 1 })
    const low = taskId('low')
    const high = taskId('high')
    // Both exist before any controller sweeps: the sweep orders them.
    await store.create({ id: low, className: 'SlowWorker', source: 'test', priority: 1, attachments: { ms: 200 } })
    await store.create({ id: high, className: 'SlowWorker', source: 'test', priority: 9, attachments: { ms: 200 } })
    const { plane: q } = await plane()
    await until(high, 'Running')
    assert.equal(await statusOf(low), 'Created', 'one slot: the higher priority took it')
    await until(low, 'Finished')
    await done(q, c)
  })

  void it('dependencies wait for Finished and fail with the reason when one fails; a passed deadline fails the task', async () => {
    const a = await node()
    const { plane: p } = await plane()
    const first = taskId('dep-first')
    await store.create({ id: first, className: 'SlowWorker', source: 'test', attachments: { ms: 400 } })
    const second = await create(p, { className: 'NormalWorker', dependencies: [first], attachments: { steps: 1 } })
    await p.runOnce()
    assert.equal(await statusOf(second), 'Created', 'waits for its dependency')
    p.kick()
    await until(first, 'Finished')
    await until(second, 'Finished')
    const broken = taskId('dep-broken')
    await store.create({ id: broken, className: 'ThrowingWorker', source: 'test' })
    const blocked = await create(p, { className: 'NormalWorker', dependencies: [broken] })
    await until(broken, 'Failed')
    p.kick()
    await until(blocked, 'Failed')
    assert.match((await store.get(blocked))!.runtime.lastError ?? '', /^E_CONTROLLER_DEPENDENCY: dependency "dep-broken.*" is Failed/)
    const late = await create(p, { className: 'NormalWorker', deadlineDateTime: Date.now() - 1000 })
    await until(late, 'Failed')
    assert.match((await store.get(late))!.runtime.lastError ?? '', /^E_CONTROLLER_DEADLINE: /)
    await done(p, a)
  })

  void it('judges a Python-style node by its heartbeats: random values → Running, 200 → Finished, -1 → Failed with the exception', async () => {
    // A class of its own: an earlier test's node (dead or alive) must not take this test's tasks.
    const py = new PythonStyleNode({ id: `py-${process.pid}`, classNames: ['PyJudged'], state, store, bus })
    pythons.push(py)
    await py.start()
    const { plane: p, events } = await plane()
    const ok = await create(p, { className: 'PyJudged' })
    await until(ok, 'Running')
    await py.end(ok, 200)
    await until(ok, 'Finished')
    const bad = await create(p, { className: 'PyJudged' })
    await until(bad, 'Running')
    await py.end(bad, -1, 'ValueError: bad frame')
    await until(bad, 'Failed')
    assert.equal((await store.get(bad))!.runtime.lastError, 'E_TASK_FAILED: ValueError: bad frame')
    assert.ok(events.some((e) => e.type === 'task-failed' && e.taskId === bad))
    await p.stop()
  })

  void it('a stalled Python-style run is retried with backoff up to its limit, then Failed for good', async () => {
    const py = new PythonStyleNode({ id: `py-stall-${process.pid}`, classNames: ['PyStalling'], state, store, bus })
    pythons.push(py)
    await py.start()
    const { plane: p, events } = await plane({ retry: { maxRetries: 1, initialMs: 200 } })
    const id = await create(p, { className: 'PyStalling' })
    await until(id, 'Running')
    py.hang(id)
    await waitFor(() => events.find((e) => e.type === 'task-retrying' && e.taskId === id), `a retry: ${JSON.stringify(events.filter((e) => 'taskId' in e && e.taskId === id))}`)
    await waitFor(async () => (await store.get(id))?.runtime.epoch === 2 && py.running.get(id)?.beating === true, 'dispatched again')
    await until(id, 'Running')
    py.hang(id)
    await until(id, 'Failed')
    const task = (await store.get(id))!
    assert.match(task.runtime.lastError ?? '', /^E_CONTROLLER_STALLED: no heartbeat change from node py-stall/)
    assert.equal(task.runtime.attempt, 2)
    const retry = events.find((e) => e.type === 'task-retrying' && e.taskId === id)
    assert.ok(retry?.type === 'task-retrying' && retry.delayMs === 200)
    await p.stop()
  })

  void it('a terminal code left by an earlier run of the same id is cleared at assignment and never read as this run\'s', async () => {
    const py = new PythonStyleNode({ id: `py-stale-${process.pid}`, classNames: ['PyStale'], state, store, bus })
    pythons.push(py)
    await py.start()
    const id = taskId('stale')
    await state.apply([{ op: 'set', key: taskHeartbeatKey(id), value: '200', ttlMs: 3_600_000 }])
    const { plane: p } = await plane()
    await create(p, { id, className: 'PyStale' })
    await until(id, 'Running')
    await p.runOnce()
    assert.equal(await statusOf(id), 'Running')
    await py.end(id, -2)
    await until(id, 'Cancelled')
    await p.stop()
  })

  void it('a terminal code older than the assignment (by its TTL) is not this run\'s, even when nobody cleared it', async () => {
    // A node that is online but never takes the task (it lacks the class), as after a manual assign by a script.
    const idle = new PythonStyleNode({ id: `py-idle-${process.pid}`, classNames: ['Other'], state, store, bus })
    pythons.push(idle)
    await idle.start()
    const { plane: p } = await plane({ mode: 'MONITOR' })
    const id = taskId('stale-ttl')
    await store.create({ id, className: 'PyNobody', source: 'test' })
    await store.claim(id, { executor: idle.id })
    // Written a minute before the assignment: its TTL (of 3600 s) has a minute less to run.
    await state.apply([{ op: 'set', key: taskHeartbeatKey(id), value: '200', ttlMs: 3_540_000 }])
    for (let i = 0; i < 3; i++) await p.runOnce()
    assert.equal(await statusOf(id), 'Assigning', 'the stale 200 is not read as Finished')
    await state.apply([{ op: 'set', key: taskHeartbeatKey(id), value: '200', ttlMs: 3_600_000 }])
    await p.runOnce()
    assert.equal(await statusOf(id), 'Finished', 'a fresh 200 is')
    await p.stop()
  })

  void it('a node that went offline: its persistent tasks are dispatched elsewhere with a new epoch, the others Failed', async () => {
    const dying = new PythonStyleNode({ id: `py-dying-${process.pid}`, classNames: ['SlowWorker'], state, store, bus })
    pythons.push(dying)
    await dying.start()
    // Alerts go to a real webhook receiver.
    const received: Array<Record<string, unknown>> = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        const payload = JSON.parse(body) as Record<string, unknown>
        received.push(...(payload.kind === 'batch' ? (payload.alerts as Array<Record<string, unknown>>) : [payload]))
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const alerts = createAlerts({ webhooks: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` }], logger: silentLogger })
    const { plane: p, events } = await plane({ alerts })
    const persistent = await create(p, { className: 'SlowWorker', executor: dying.id })
    const transient = await create(p, { className: 'SlowWorker', executor: dying.id, isPersistent: false })
    await until(persistent, 'Running')
    await until(transient, 'Running')
    const before = (await store.get(persistent))!.runtime.epoch
    const survivor = await node({ SlowWorker: INLINE.SlowWorker })
    dying.kill()
    const killedAt = performance.now()
    await waitFor(async () => (await store.get(persistent))?.executor === survivor.skald.id && (await statusOf(persistent)) === 'Running', 'the persistent task running on the survivor')
    console.log(`# failover (offlineAfterMs 1000, heartbeat TTL 300 ms): ${(performance.now() - killedAt).toFixed(0)} ms from the node's death to Running elsewhere`)
    assert.equal((await store.get(persistent))!.runtime.epoch, before + 1)
    await until(transient, 'Failed')
    assert.match((await store.get(transient))!.runtime.lastError ?? '', /^E_CONTROLLER_NODE_OFFLINE: node py-dying/)
    assert.ok(events.some((e) => e.type === 'node-offline' && e.skaldId === dying.id))
    assert.ok(events.some((e) => e.type === 'task-failover' && e.taskId === persistent && e.requeued))
    await alerts.flush(5000)
    assert.ok(received.some((a) => a.kind === 'node.offline' && a.skaldId === dying.id), JSON.stringify(received))
    assert.ok(received.some((a) => a.kind === 'task.failover' && a.taskId === persistent && a.from === dying.id))
    assert.ok(received.some((a) => a.kind === 'task.failed' && a.taskId === transient))
    await alerts.close()
    server.close()
    await done(p, survivor)
  })

  void it('commands: cancel (also when its event is lost), cooperative pause and resume from the checkpoint on any node, freeze and thaw, retry', async () => {
    const a = await node({ ...INLINE, FreezableWorker: { worker: fixture('freezable') } })
    const b = await node({ CheckpointingWorker: INLINE.CheckpointingWorker })
    const { plane: p } = await plane()
    const commands = new TaskCommands({ store, bus, nodes: p.nodes, kick: () => p.kick(), logger: silentLogger })

    const waiting = await commands.create({ id: taskId('cmd-created'), className: 'NoNodeHasIt', source: 'test' })
    assert.equal((await commands.cancel(waiting.id)).lifecycleStatus, 'Cancelled')
    await assert.rejects(commands.resume(waiting.id), { code: 'E_TASK_STATE', message: /cannot resume task ".*": it is Cancelled \(only Paused\)/ })
    assert.equal((await commands.retry(waiting.id)).lifecycleStatus, 'Created')

    const running = await commands.create({ id: taskId('cmd-cancel'), className: 'SlowWorker', source: 'test' })
    await until(running.id, 'Running')
    // The cancel's event lost: the status alone stops the run at the node's next fence check.
    await store.update(running.id, { lifecycleStatus: 'Cancelled' })
    await waitFor(() => !a.skald.manager.running.some((t) => t.taskId === running.id), 'the node stops the run', 10_000)
    assert.equal(await statusOf(running.id), 'Cancelled')

    const counting = await commands.create({ id: taskId('cmd-pause'), className: 'CheckpointingWorker', source: 'test', attachments: { until: 150, stepMs: 20 } })
    await waitFor(async () => (await store.get(counting.id))?.runtime.checkpoint !== null, 'a checkpoint saved', 10_000)
    await commands.pause(counting.id)
    await until(counting.id, 'Paused')
    const saved = (await store.get(counting.id))!.runtime.checkpoint as { i: number }
    await commands.resume(counting.id)
    await until(counting.id, 'Finished', 15_000)
    const resumed = [...a.events, ...b.events].find((e) => e.type === 'worker' && e.taskId === counting.id && e.event.type === 'log' && e.event.line.includes('"hook":"before"') && e.event.line.includes('"resumedFrom":{'))
    assert.ok(resumed?.type === 'worker' && resumed.event.type === 'log' && resumed.event.line.includes(`"i":${saved.i}`), 'the second run started from the checkpoint')

    const frozen = await commands.create({ id: taskId('cmd-freeze'), className: 'FreezableWorker', source: 'test' })
    await until(frozen.id, 'Running')
    const epoch = (await store.get(frozen.id))!.runtime.epoch
    await commands.pause(frozen.id)
    await until(frozen.id, 'Paused')
    await p.runOnce() // the node view: it still holds the task
    await commands.resume(frozen.id)
    await until(frozen.id, 'Running')
    assert.equal((await store.get(frozen.id))!.runtime.epoch, epoch, 'thawed in place, same assignment')
    await commands.cancel(frozen.id)
    await until(frozen.id, 'Cancelled')
    await done(p, a, b)
  })

  void it('MONITOR mode dispatches nothing; a follower (not the leader) writes nothing', async () => {
    const a = await node()
    const { plane: monitor } = await plane({ mode: 'MONITOR' })
    const { plane: follower } = await plane({ leadership: { isLeader: false } })
    const id = await create(monitor, { className: 'NormalWorker' })
    follower.kick()
    await monitor.runOnce()
    await follower.runOnce()
    assert.equal(await statusOf(id), 'Created')
    assert.ok(monitor.nodes?.nodes.get(a.skald.id)?.online, 'both still watch the nodes')
    assert.ok(follower.nodes?.nodes.get(a.skald.id)?.online)
    await monitor.stop()
    await follower.stop()
    const { plane: dispatcher } = await plane({ mode: 'DISPATCHER' })
    await until(id, 'Finished')
    await done(dispatcher, a)
  })
})
