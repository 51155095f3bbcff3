// Each dispatch strategy with real Skald processes on Redis 8 (bus: Redis Streams, state: Redis) and SQLite: two
// nodes with room for two tasks each, one of them the only one with a second class. Four tasks of the shared class
// run two per node whatever the strategy (capacity), and a task of the other class always goes to its node
// (capability); every task is dispatched once.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { ControlPlane } from '../../src/controller/control-plane.ts'
import { DISPATCH_STRATEGIES } from '../../src/controller/strategies.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { taskId } from '../helpers/skald-node.ts'
import { killAll, spawnSkald } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const prefix = uniquePrefix('ctl-strategies')
const dir = mkdtempSync(join(tmpdir(), 'skalds-strat-'))
const dbPath = join(dir, 'skalds.db')
const children: ChildProcess[] = []
let connection: RedisConnection
let bus: RedisStreamsBus
let store: SqliteTaskStore

before(async () => {
  connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  bus = new RedisStreamsBus({ connection, blockMs: 200, logger: silentLogger })
  store = SqliteTaskStore.open({ path: dbPath })
})
after(async () => {
  killAll(children)
  await bus.close()
  await deleteKeysWithPrefix(connection, prefix)
  await connection.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

void it('every strategy: capacity and capability respected across two Skald processes, each task dispatched once', async () => {
  const env = { SKALD_MODE: 'node', REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_BUS: 'redis-streams', SKALDS_SQLITE_PATH: dbPath, REDIS_SYNC_PERIOD: '0.2', TEST_MAX_TASKS: '2' }
  const a = `strat-a-${process.pid}`
  const b = `strat-b-${process.pid}`
  await spawnSkald({ ...env, SKALD_ID: a, TEST_CLASSES: 'SlowWorker,NormalWorker' }, children)
  await spawnSkald({ ...env, SKALD_ID: b, TEST_CLASSES: 'SlowWorker' }, children)
  for (const strategy of DISPATCH_STRATEGIES) {
    const plane = new ControlPlane({ store, bus, state: createRedisSkaldStateBackend(connection), strategy, nodeIntervalMs: 200, logger: silentLogger })
    await plane.start()
    await waitFor(() => (plane.nodes?.dispatchable().length ?? 0) === 2, `${strategy}: both nodes`, 15_000)
    const only = taskId('only-a')
    await store.create({ id: only, className: 'NormalWorker', source: 'test' })
    const slow: string[] = []
    for (let i = 0; i < 4; i++) {
      slow.push(taskId(`slow-${strategy}`))
      await store.create({ id: slow.at(-1)!, className: 'SlowWorker', source: 'test', attachments: { ms: 60_000 } })
    }
    plane.kick()
    await waitFor(async () => (await store.get(only))?.lifecycleStatus === 'Finished', `${strategy}: NormalWorker finished`, 20_000)
    assert.equal((await store.get(only))!.executor, a, `${strategy}: only A has NormalWorker`)
    await waitFor(async () => (await store.getMany(slow)).every((t) => t.lifecycleStatus === 'Running'), `${strategy}: four tasks running`, 20_000)
    const tasks = await store.getMany(slow)
    assert.deepEqual([a, b].map((n) => tasks.filter((t) => t.executor === n).length), [2, 2], `${strategy}: two per node`)
    assert.ok(tasks.every((t) => t.runtime.epoch === 1), `${strategy}: dispatched once`)
    await plane.stop()
    // Cancel through the store: the nodes stop the runs at their next fence check, freeing their room.
    for (const id of slow) await store.update(id, { lifecycleStatus: 'Cancelled' })
    const reader = createSkaldStateReader(createRedisSkaldStateBackend(connection))
    await waitFor(async () => (await Promise.all([a, b].map((n) => reader.node(n)))).every((n) => n?.load?.running === 0), `${strategy}: runs stopped, as the nodes advertise`, 20_000)
  }
})
