// The control plane with real Skald processes on Redis 8 (bus: Redis Streams, state: Redis) and SQLite, at the
// default node timings (3 s writes, 8 s heartbeat TTL): dispatch with capability and capacity across two nodes; a
// node killed with SIGKILL → its persistent task runs on another node within 15 s with a new epoch, and the old
// node restarted does not run it; a node stopped with SIGTERM hands its tasks back and they run elsewhere at once.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import { silentLogger } from '../../src/config/logger.ts'
import type { ControlEvent } from '../../src/controller/control-events.ts'
import { ControlPlane } from '../../src/controller/control-plane.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { taskId } from '../helpers/skald-node.ts'
import { killAll, spawnSkald as spawn, type SkaldChild } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const prefix = uniquePrefix('ctl-failover')
const dir = mkdtempSync(join(tmpdir(), 'skalds-ctl-'))
const dbPath = join(dir, 'skalds.db')
const children: ChildProcess[] = []
let connection: RedisConnection
let bus: RedisStreamsBus
let store: SqliteTaskStore
let plane: ControlPlane
const events: ControlEvent[] = []

before(async () => {
  connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  bus = new RedisStreamsBus({ connection, blockMs: 200, logger: silentLogger })
  store = SqliteTaskStore.open({ path: dbPath })
  // Python's default intervals: nodes every 5 s, tasks every 3 s, sweeps every 5 s (kicks in between).
  plane = new ControlPlane({ store, bus, state: createRedisSkaldStateBackend(connection), logger: silentLogger, onEvent: (e) => events.push(e) })
  await plane.start()
})
after(async () => {
  killAll(children)
  await plane.stop()
  await bus.close()
  await deleteKeysWithPrefix(connection, prefix)
  await connection.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const node = (id: string, env: Record<string, string> = {}): Promise<SkaldChild> =>
  spawn({ SKALD_ID: id, SKALD_MODE: 'node', REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_BUS: 'redis-streams', SKALDS_SQLITE_PATH: dbPath, TEST_DRAIN_MS: '3000', ...env }, children)

async function create(className: string, extra: { isPersistent?: boolean; attachments?: Record<string, unknown> } = {}): Promise<string> {
  const id = taskId(className)
  await store.create({ id, className, source: 'test', ...extra })
  plane.kick()
  return id
}
const task = async (id: string) => (await store.get(id))!
const until = (what: string, check: () => boolean | Promise<boolean>, ms = 20_000) => waitFor(check, what, ms)

void describe('control plane with Skald processes', () => {
  void it('dispatches by capability and capacity; SIGKILL → the persistent task runs elsewhere within 15 s; the old node back runs nothing it lost', async () => {
    const a = `ctl-a-${process.pid}`
    const b = `ctl-b-${process.pid}`
    const nodeA = await node(a, { TEST_CLASSES: 'SlowWorker,NormalWorker', TEST_MAX_TASKS: '1' })
    await node(b, { TEST_CLASSES: 'SlowWorker' })
    await until('both nodes online', () => (plane.nodes?.dispatchable().length ?? 0) >= 2)
    const normal = await create('NormalWorker')
    await until('NormalWorker Finished on A (the only node with the class)', async () => (await task(normal)).lifecycleStatus === 'Finished')
    assert.equal((await task(normal)).executor, a)

    const slow1 = await create('SlowWorker')
    await until('slow1 Running', async () => (await task(slow1)).lifecycleStatus === 'Running')
    const slow2 = await create('SlowWorker')
    await until('slow2 Running', async () => (await task(slow2)).lifecycleStatus === 'Running')
    const onA = (await task(slow1)).executor === a ? slow1 : slow2
    assert.notEqual((await task(slow1)).executor, (await task(slow2)).executor, 'A takes one task at most')
    const epoch = (await task(onA)).runtime.epoch

    nodeA.child.kill('SIGKILL')
    const killedAt = performance.now()
    await until('the task of the killed node Running on B', async () => {
      const t = await task(onA)
      return t.executor === b && t.lifecycleStatus === 'Running'
    }, 30_000)
    const tookMs = performance.now() - killedAt
    console.log(`# SIGKILL → Running on another node: ${(tookMs / 1000).toFixed(1)} s (default timings: 3 s writes, 8 s heartbeat TTL, 5 s node monitor)`)
    assert.ok(tookMs < 15_000, `failover took ${tookMs} ms`)
    assert.equal((await task(onA)).runtime.epoch, epoch + 1)
    assert.ok(events.some((e) => e.type === 'task-failover' && e.taskId === onA && e.from === a && e.requeued))

    // Node A back under the same id: its consumer group replays nothing it should run, and it runs nothing it lost.
    const back = await node(a, { TEST_CLASSES: 'SlowWorker,NormalWorker', TEST_MAX_TASKS: '1' })
    await until('A online again', () => plane.nodes?.nodes.get(a)?.online === true)
    await new Promise((r) => setTimeout(r, 3000))
    const t = await task(onA)
    assert.equal(t.executor, b)
    assert.equal(t.lifecycleStatus, 'Running')
    back.child.kill('SIGTERM')
    assert.equal((await back.exited).code, 0)
  })

  void it('SIGTERM: the node drains, hands its tasks back, and they run on another node at once', async () => {
    const c = `ctl-c-${process.pid}`
    const d = `ctl-d-${process.pid}`
    const nodeC = await node(c, { TEST_CLASSES: 'SlowWorker' })
    await until('C online', () => plane.nodes?.dispatchable().some((n) => n.id === c) === true)
    const ids = [await create('SlowWorker'), await create('SlowWorker')]
    for (const id of ids) await until(`${id} Running`, async () => (await task(id)).lifecycleStatus === 'Running')
    const onC = []
    for (const id of ids) if ((await task(id)).executor === c) onC.push(id)
    assert.ok(onC.length > 0)
    await node(d, { TEST_CLASSES: 'SlowWorker' })
    await until('D online', () => plane.nodes?.dispatchable().some((n) => n.id === d) === true)
    const sent = performance.now()
    nodeC.child.kill('SIGTERM')
    for (const id of onC) await until(`${id} Running on D`, async () => (await task(id)).executor === d && (await task(id)).lifecycleStatus === 'Running')
    const tookMs = performance.now() - sent
    console.log(`# SIGTERM → handed-back tasks Running on another node: ${tookMs.toFixed(0)} ms (drain timeout 3 s)`)
    assert.ok(tookMs < 8000, `moved in ${tookMs} ms, without waiting for the node's timeout`)
    assert.equal((await nodeC.exited).code, 0)
  })
})
