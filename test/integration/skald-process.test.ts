// A Skald as its own process (runSkald, configured by env vars) on Redis 8, Redis Streams and SQLite: SIGTERM
// drains it (a task that finishes in time is Finished, a persistent one is handed back as Created with no
// executor, a non-persistent one Failed with E_SKALD_SHUTDOWN, never Cancelled) and it exits 0; Ctrl-C (SIGINT
// to the whole process group) does the same, the worker children ignoring it; a single_process Skald's exit code
// is its task's outcome (143 when SIGTERM cut it short); a node SIGSTOPped while its task was reassigned drops it
// when it wakes up (fencing).
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { createSkaldStateReader, type SkaldStateReader } from '../../src/state/reader.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { createAndAssign, publish, taskId, Topic } from '../helpers/skald-node.ts'
import { yamlFile } from '../helpers/skald-run.ts'
import { killAll, type SkaldChild, spawnSkald as helperSpawn } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const prefix = uniquePrefix('skald-proc')
const dir = mkdtempSync(join(tmpdir(), 'skalds-proc-'))
const dbPath = join(dir, 'skalds.db')
let connection: RedisConnection
let bus: RedisStreamsBus
let store: SqliteTaskStore
let reader: SkaldStateReader
const children: ChildProcess[] = []

before(async () => {
  connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  bus = new RedisStreamsBus({ connection, blockMs: 200, logger: silentLogger })
  store = SqliteTaskStore.open({ path: dbPath })
  reader = createSkaldStateReader(createRedisSkaldStateBackend(connection))
})
after(async () => {
  killAll(children)
  await bus.close()
  await deleteKeysWithPrefix(connection, prefix)
  await connection.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const spawnSkald = (env: Record<string, string>): Promise<SkaldChild> =>
  helperSpawn({ REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_BUS: 'redis-streams', SKALDS_SQLITE_PATH: dbPath, TEST_DRAIN_MS: '2000', REDIS_SYNC_PERIOD: '0.2', ...env }, children)

const statusOf = async (id: string): Promise<string | undefined> => (await store.get(id))?.lifecycleStatus

void describe('a Skald process', () => {
  for (const [signal, group] of [['SIGTERM', false], ['SIGINT', true]] as const) {
    void it(`${signal}${group ? ' to the process group (Ctrl-C)' : ''}: drains, hands persistent tasks back, exits 0`, async () => {
      const skaldId = `proc-${signal}-${process.pid}`
      const s = await spawnSkald({ SKALD_ID: skaldId, SKALD_MODE: 'node' })
      const quick = taskId('quick')
      const persistent = taskId('persistent')
      const transient = taskId('transient')
      await createAndAssign(bus, store, skaldId, { id: quick, className: 'SlowWorker', attachments: { ms: 1500 } })
      await createAndAssign(bus, store, skaldId, { id: persistent, className: 'SlowWorker' })
      await createAndAssign(bus, store, skaldId, { id: transient, className: 'SlowWorker', isPersistent: false })
      for (const id of [quick, persistent, transient]) await waitFor(async () => (await statusOf(id)) === 'Running', `${id} Running: ${s.output.join('\n')}`)
      const load = await waitFor(async () => ((await reader.node(skaldId))?.load?.running === 3 ? (await reader.node(skaldId))!.load : undefined), 'load: 3 running', 10_000)
      assert.equal(load.capacity, 16)
      const sent = performance.now()
      process.kill(group ? -s.child.pid! : s.child.pid!, signal)
      const exit = await s.exited
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, s.output.join('\n'))
      const tookMs = exit.at - sent
      console.log(`# ${signal}${group ? ' (group)' : ''} → exit: ${tookMs.toFixed(0)} ms (drain timeout 2000 ms, grace 1000 ms)`)
      assert.ok(tookMs < 2000 + 1000 + 2000, `exited within drain + grace (+ slack): ${tookMs} ms`)
      assert.equal(await statusOf(quick), 'Finished', (await store.get(quick))?.runtime.lastError ?? '')
      const handedBack = (await store.get(persistent))!
      assert.equal(handedBack.lifecycleStatus, 'Created')
      assert.equal(handedBack.executor, null)
      const failed = (await store.get(transient))!
      assert.equal(failed.lifecycleStatus, 'Failed')
      assert.match(failed.runtime.lastError ?? '', /^E_SKALD_SHUTDOWN/)
      assert.equal((await reader.task(quick)).heartbeat, 200)
      assert.equal((await reader.task(transient)).heartbeat, -1)
      assert.ok((await reader.task(persistent)).heartbeat >= 0, 'no terminal code for a handed-back task')
    })
  }

  void it('a node stopped (SIGSTOP) while its task is reassigned runs nothing it no longer owns once it wakes up', async () => {
    const a = `proc-fence-a-${process.pid}`
    const b = `proc-fence-b-${process.pid}`
    const nodeA = await spawnSkald({ SKALD_ID: a, SKALD_MODE: 'node' })
    const nodeB = await spawnSkald({ SKALD_ID: b, SKALD_MODE: 'node' })
    const id = taskId('fenced')
    const first = await createAndAssign(bus, store, a, { id, className: 'CheckpointingWorker', attachments: { until: 150, stepMs: 20 } })
    await waitFor(async () => (await store.get(id))?.runtime.checkpoint !== null, 'a first checkpoint saved by node A')
    process.kill(nodeA.child.pid!, 'SIGSTOP')
    try {
      // What a controller's failover does: a new epoch for node B, then the assign.
      const claimed = await store.claim(id, { executor: b, expectEpoch: first.runtime.epoch })
      await publish(bus, Topic.TaskAssign, id)
      await waitFor(async () => (await store.get(id))?.runtime.attempt === 2, 'node B runs it (attempt 2)')
      assert.equal(claimed.runtime.epoch, first.runtime.epoch + 1)
    } finally {
      process.kill(nodeA.child.pid!, 'SIGCONT')
    }
    // Node A wakes up with a stale run: within a fence interval it drops it, from its all-task list too.
    await waitFor(async () => {
      const listed = (await reader.node(a))?.allTasks.tasks.map((t) => t.id) ?? []
      return !listed.includes(id)
    }, 'node A to drop the task from its all-task list', 10_000)
    const finished = await waitFor(async () => {
      const t = await store.get(id)
      return t?.lifecycleStatus === 'Finished' ? t : undefined
    }, 'node B to finish it', 20_000)
    assert.equal(finished.executor, b)
    assert.equal(finished.runtime.epoch, first.runtime.epoch + 1)
    assert.equal((await reader.task(id)).heartbeat, 200)
    nodeA.child.kill('SIGTERM')
    nodeB.child.kill('SIGTERM')
    assert.deepEqual([(await nodeA.exited).code, (await nodeB.exited).code], [0, 0])
    // Node A never wrote an ending for the run it lost: the store shows B's outcome only.
    assert.equal((await store.get(id))!.lifecycleStatus, 'Finished')
  })

  void it('single_process: the exit code is the outcome (0, 1), 143 when SIGTERM cuts the task short; a broken file refuses to start', async () => {
    const run = async (className: string, extra = ''): Promise<SkaldChild> => {
      const id = taskId(`sp-${className}`)
      return spawnSkald({ SKALD_ID: `sp-${process.pid}-${id}`, SKALD_MODE: 'single_process', YAML_FILE: yamlFile(`TaskWorkers:\n  ${id}:\n    className: ${className}\n${extra}`) })
    }
    assert.equal((await (await run('NormalWorker')).exited).code, 0)
    assert.equal((await (await run('ThrowingWorker')).exited).code, 1)
    const slow = await run('SlowWorker')
    slow.child.kill('SIGTERM')
    assert.equal((await slow.exited).code, 143)
    const broken = await spawnSkald({ SKALD_ID: `sp-broken-${process.pid}`, SKALD_MODE: 'single_process', YAML_FILE: yamlFile('TaskWorkers:\n  x:\n    attachments: {}\n') })
    assert.equal((await broken.exited).code, 2)
    assert.match(broken.output.join('\n'), /workers\.yml:2: TaskWorkers\.x\.className: /)
  })

  void it("LOG_PATH: the node's lines and its workers' go to log files; LOG_SPLIT_WITH_WORKER_ID gives each task its own", async () => {
    const logs = join(dir, 'logs')
    const read = (file: string): Array<Record<string, unknown>> =>
      readFileSync(join(logs, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    for (const split of [true, false]) {
      const skaldId = `proc-logs-${split ? 'split' : 'one'}-${process.pid}`
      const s = await spawnSkald({ SKALD_ID: skaldId, SKALD_MODE: 'node', LOG_PATH: logs, LOG_LEVEL: 'info', LOG_SPLIT_WITH_WORKER_ID: String(split) })
      const id = taskId(`logs-${split}`)
      await createAndAssign(bus, store, skaldId, { id, className: 'NormalWorker', attachments: { steps: 1 } })
      await waitFor(async () => (await statusOf(id)) === 'Finished', `${id} Finished: ${s.output.join('\n')}`)
      s.child.kill('SIGTERM')
      assert.equal((await s.exited).code, 0, s.output.join('\n'))
      const nodeLines = read(`${skaldId}.1.log`)
      assert.ok(nodeLines.some((l) => l.msg === 'signal: draining'), "the node's own lines")
      // the worker's logger lines (pino JSON from the child process, with the task id), hook by hook
      const workerLines = split ? read(`${skaldId}_${id}.1.log`) : nodeLines.filter((l) => l.taskId === id)
      const hooks = workerLines.map((l) => l.hook)
      assert.deepEqual(hooks, ['before', 'main', 'after', 'release'], JSON.stringify(workerLines))
      assert.ok(workerLines.every((l) => l.taskId === id))
      if (split) assert.ok(!nodeLines.some((l) => l.taskId === id && l.source !== undefined), "split: the worker's lines are not in the node's file")
      else assert.ok(workerLines.every((l) => l.source === 'logger' && l.className === 'NormalWorker' && l.level === 30), "one file: the worker line's fields and level, and where it came from")
    }
    assert.ok(readdirSync(logs).every((f) => f.endsWith('.log')), readdirSync(logs).join(', '))
  })
})
