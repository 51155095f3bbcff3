// Short tasks on a node with room for one: each freed slot is used at once. The node writes its load when a run
// ends and announces `task.ended`; the control plane re-reads that node and sweeps. Node monitor and safety-net
// sweeps are set an hour apart, so only that path can dispatch the tasks after the first.
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { ControlPlane } from '../../src/controller/control-plane.ts'
import { embeddedEngines, startSkald } from '../helpers/skald-run.ts'
import { waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
const planes: ControlPlane[] = []
after(async () => {
  for (const p of planes) await p.stop()
  await engines.close()
})

void it('a node with room for one runs ten short tasks back to back: each ended run frees its slot for the next at once', async () => {
  engines.started.push(await startSkald({ skaldId: 'fresh-1', bus: engines.bus, store: engines.store, state: engines.state, limits: { maxTasks: 1 }, hostOptions: { graceMs: 1000, poolSize: 1 } }))
  const hour = 3_600_000
  const dispatched: string[] = []
  const plane = new ControlPlane({
    store: engines.store,
    bus: engines.bus,
    state: engines.state,
    nodeIntervalMs: hour,
    taskIntervalMs: hour,
    dispatchIntervalMs: hour,
    logger: silentLogger,
    onEvent: (e) => void (e.type === 'task-dispatched' && dispatched.push(e.taskId)),
  })
  planes.push(plane)
  await plane.start()
  assert.equal(plane.nodes?.dispatchable().length, 1)
  const ids = Array.from({ length: 10 }, (_, i) => `fresh-t${i}`)
  for (const id of ids) await engines.store.create({ id, className: 'InlineNormal', source: 'test', attachments: { steps: 1 } })
  plane.kick()
  const started = performance.now()
  await waitFor(async () => (await engines.store.getMany(ids)).every((t) => t.lifecycleStatus === 'Finished'), 'ten tasks finished one after the other', 20_000)
  console.log(`# ten short tasks through one slot in ${Math.round(performance.now() - started)} ms`)
  assert.deepEqual([...dispatched].sort(), [...ids].sort(), 'each dispatched once')
  // never more than one at a time on the node: each run started after the previous one ended
  const tasks = await engines.store.getMany(ids)
  assert.ok(tasks.every((t) => t.runtime.epoch === 1), 'no task handed back for lack of room')
})

void it('a sweep reads only as many Created tasks as there is room for, yet looks past a head of tasks that must wait', async () => {
  const engines2 = embeddedEngines()
  try {
    engines2.started.push(await startSkald({ skaldId: 'fresh-2', bus: engines2.bus, store: engines2.store, state: engines2.state, limits: { maxTasks: 1 }, hostOptions: { graceMs: 1000, poolSize: 1 } }))
    const hour = 3_600_000
    const plane = new ControlPlane({ store: engines2.store, bus: engines2.bus, state: engines2.state, nodeIntervalMs: hour, taskIntervalMs: hour, dispatchIntervalMs: hour, logger: silentLogger })
    planes.push(plane)
    await plane.start()
    await engines2.store.create({ id: 'head-dep', className: 'SlowWorker', source: 'test', lifecycleStatus: 'Paused' })
    const base = Date.now() - 60_000
    // 40 older tasks that wait on a dependency, then one that can run: the room is one slot (a page of 32 rows)
    for (let i = 0; i < 40; i++) await engines2.store.create({ id: `head-${String(i).padStart(2, '0')}`, className: 'InlineNormal', source: 'test', dependencies: ['head-dep'], createDateTime: base + i })
    await engines2.store.create({ id: 'tail-ready', className: 'InlineNormal', source: 'test', attachments: { steps: 1 }, createDateTime: base + 100 })
    const report = await plane.runOnce()
    assert.deepEqual(report?.dispatched.map((d) => d.taskId), ['tail-ready'])
    assert.equal(report?.waiting, 40)
  } finally {
    await engines2.close()
  }
})
