// The node-mode TaskWorkerManager on real servers: Redis Streams as the bus, MongoDB (FerretDB or mongod) as the
// store. Assign → run → Finished in a child process, and cancel; the TaskReporter is a recording fake.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { MongoClient } from 'mongodb'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'
import { createAndAssign, publish, startNode, taskId, Topic, type TestNode } from '../helpers/skald-node.ts'
import { mongoUrl, redis8Url, uniquePrefix } from '../helpers/servers.ts'

const dbName = `skalds_test_node_${process.pid}_${randomUUID().slice(0, 8)}`
let connection: RedisConnection
let bus: RedisStreamsBus
let store: MongoTaskStore
let node: TestNode

before(async () => {
  connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: uniquePrefix('node'), commandTimeoutMs: 3000, logger: silentLogger })
  bus = new RedisStreamsBus({ connection, blockMs: 200, logger: silentLogger })
  store = await MongoTaskStore.connect({ url: mongoUrl(), dbName })
  node = await startNode('node-r', bus, store, { hostOptions: { graceMs: 2000, poolSize: 1 }, fenceIntervalMs: 200 })
})
after(async () => {
  await node.manager.close()
  await bus.close()
  await connection.close()
  await store.close()
  const client = await MongoClient.connect(mongoUrl())
  await client.db(dbName).dropDatabase()
  await client.close()
})

void describe('TaskWorkerManager on Redis Streams + MongoDB (process host)', () => {
  void it('assign → run → Finished, hooks in order', async () => {
    const id = taskId('r-finish')
    const claimed = await createAndAssign(bus, store, 'node-r', { id, className: 'NormalWorker', attachments: { steps: 2 } })
    const task = await node.ended(id)
    assert.equal(task.lifecycleStatus, 'Finished')
    assert.equal(task.runtime.epoch, claimed.runtime.epoch)
    assert.deepEqual(node.hooks(id), ['before', 'main', 'after', 'release'])
    assert.deepEqual(node.reporter.of(id).at(-1), { call: 'ended', taskId: id, epoch: claimed.runtime.epoch, ending: { status: 'finished' } })
  })

  void it('cancel → Cancelled, release ran with reason cancelled', async () => {
    const id = taskId('r-cancel')
    await createAndAssign(bus, store, 'node-r', { id, className: 'SlowWorker' })
    await node.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    const sent = performance.now()
    await publish(bus, Topic.TaskCancel, id)
    const task = await node.ended(id)
    console.log(`# cancel event → task Cancelled in MongoDB (process, Redis Streams): ${(performance.now() - sent).toFixed(1)} ms`)
    assert.equal(task.lifecycleStatus, 'Cancelled')
    assert.equal(node.logged(id).find((l) => l.hook === 'release')?.reason, 'cancelled')
  })
  void it('a live update reaches the child worker (latency logged)', async () => {
    const id = taskId('r-update')
    await createAndAssign(bus, store, 'node-r', { id, className: 'UpdatingWorker', attachments: { rtspUrl: 'rtsp://a', fixFrame: 1 } })
    await node.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    const latencies: number[] = []
    for (const fixFrame of [2, 3, 4]) {
      await store.update(id, { attachments: { rtspUrl: 'rtsp://a', fixFrame } })
      const from = node.events.length
      const sent = performance.now()
      await publish(bus, Topic.TaskUpdateAttachment, id)
      await node.waitEvent((e) => e.type === 'update-forwarded' && e.taskId === id && node.events.indexOf(e) >= from, 'forwarded')
      const at = node.events.findIndex((e, i) => i >= from && e.type === 'worker' && e.event.type === 'hook' && e.event.hook === 'update')
      assert.ok(at >= 0)
      latencies.push(node.at[at]! - sent)
    }
    console.log(`# update event → update hook (process, Redis Streams, MongoDB): ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`)
    await publish(bus, Topic.TaskCancel, id)
    assert.equal((await node.ended(id)).lifecycleStatus, 'Cancelled')
  })
})
