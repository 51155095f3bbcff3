// The ports of the Python Skalds examples (examples/single_task_worker_define, single_task_worker_with_skald_node,
// update_task_worker_with_skald_node), each run as its README says: the launcher and the task scripts as real child
// processes, configured only through Skalds' env variables, against Redis 8, MongoDB (FerretDB) and Kafka or Redis
// Streams. The tests read what the processes print (the worker's lines), what they store and what they register in
// Redis. Each test has its own SKALD_ID, task id, database and Redis key prefix, so reruns and parallel runs do not
// meet; every child is killed in `after` whatever happened.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { MongoClient } from 'mongodb'
import { KafkaBus } from '../../src/bus/kafka.ts'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import type { EventBus } from '../../src/bus/types.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { createSkaldStateReader, type SkaldStateReader } from '../../src/state/reader.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { kafkaBrokers, mongoUrl, redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { publish, Topic } from '../helpers/skald-node.ts'
import { waitFor, within } from '../helpers/wait.ts'

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url))
const example = (path: string): string => join(EXAMPLES, path)
/** runSkald's default: what a SIGTERM gives running tasks before they are stopped */
const DRAIN_TIMEOUT_MS = 10_000
/** start-up of a launcher: Node, Redis, MongoDB, the bus' subscriptions (a Kafka group join) */
const START_MS = 30_000

/** One child process running an example file, its stdout kept line by line. */
class ExampleProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly lines: string[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #done = false

  constructor(file: string, env: NodeJS.ProcessEnv, cwd: string) {
    this.name = file.slice(EXAMPLES.length)
    this.child = spawn(process.execPath, [file], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.lines.push(line))
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line))
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.#done = true
        resolve({ code, signal })
      })
    })
  }

  get running(): boolean {
    return !this.#done
  }

  /**
   * Waits for a stdout line equal to `line` at index `from` or later; returns its index. Gives up at once
   * when the process exits, or when it reports a task failed or rejected (printWorkerOutput's `[id] failed: …`).
   */
  async waitLine(line: string, timeoutMs = 20_000, from = 0): Promise<number> {
    try {
      const index = await waitFor(
        () => {
          const i = this.lines.findIndex((l, n) => n >= from && l === line)
          if (i >= 0) return i + 1 // 0 is falsy
          const failed = this.lines.find((l) => /^\[[^\]]+\] (failed|rejected): /.test(l))
          if (failed) throw new Error(`${this.name}: ${failed}`)
          if (!this.running) throw new Error(`${this.name} exited`)
          return undefined
        },
        `${this.name} to print ${line}`,
        timeoutMs,
      )
      return index - 1
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.tail()}`, { cause: error })
    }
  }

  /** The pino line (JSON) whose `msg` is `msg`, or undefined. */
  logged(msg: string): Record<string, unknown> | undefined {
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (parsed.msg === msg) return parsed
    }
    return undefined
  }

  /** SIGTERM; resolves with the exit and how long it took. */
  async terminate(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const t0 = performance.now()
    this.child.kill('SIGTERM')
    const exit = await within(this.exited, `${this.name} to exit after SIGTERM\n${this.tail()}`, timeoutMs)
    return { ...exit, ms: performance.now() - t0 }
  }

  tail(n = 40): string {
    return [`--- ${this.name} stdout (last ${n} lines)`, ...this.lines.slice(-n), `--- stderr`, ...this.stderr.slice(-n)].join('\n')
  }
}

/** The servers and the isolation of one test: its own SKALD_ID, task id, database, Redis key prefix. */
class ExampleRun {
  readonly label: string
  readonly skaldId: string
  readonly taskId: string
  readonly dbName: string
  readonly prefix: string
  readonly cwd: string
  readonly bus: 'kafka' | 'redis-streams'
  readonly processes: ExampleProcess[] = []
  #redis: RedisConnection | undefined
  #store: MongoTaskStore | undefined
  #bus: EventBus | undefined

  constructor(label: string, bus: 'kafka' | 'redis-streams') {
    const unique = `${process.pid}-${randomUUID().slice(0, 8)}`
    this.label = label
    this.bus = bus
    this.skaldId = `example-${label}-${unique}`
    this.taskId = `task-${label}-${unique}`
    this.dbName = `skalds_test_examples_${label}_${unique.replaceAll('-', '_')}`
    this.prefix = uniquePrefix(`examples-${label}`)
    // A folder of its own as the working directory: no stray .env is read, and the edge's YAML file is a copy.
    this.cwd = mkdtempSync(join(tmpdir(), `skalds-example-${label}-`))
  }

  /**
   * Only what the examples read, rather than this process' environment (whose REDIS_CLUSTER_NODES would win over
   * REDIS_URL). With Redis Streams, KAFKA_HOST still gets the example's default (127.0.0.1:9092) but is not used.
   */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SKALD_ID: this.skaldId,
      TASK_ID: this.taskId,
      REDIS_URL: redis8Url(),
      REDIS_KEY_PREFIX: this.prefix,
      MONGO_URL: mongoUrl(),
      DB_NAME: this.dbName,
      ...(this.bus === 'kafka' ? { KAFKA_BROKERS: kafkaBrokers() } : { SKALDS_BUS: 'redis-streams' }),
      ...extra,
    }
  }

  start(file: string, extra?: Record<string, string>): ExampleProcess {
    const p = new ExampleProcess(example(file), this.env(extra), this.cwd)
    this.processes.push(p)
    return p
  }

  /** Runs a script to its end; asserts exit 0 and returns its stdout lines. */
  async script(file: string): Promise<string[]> {
    const p = this.start(file)
    const exit = await within(p.exited, `${file} to end`, 30_000)
    assert.deepEqual(exit, { code: 0, signal: null }, `${file} failed\n${p.tail()}`)
    return p.lines
  }

  async redis(): Promise<RedisConnection> {
    this.#redis ??= await RedisConnection.connect({ url: redis8Url(), keyPrefix: this.prefix, logger: silentLogger })
    return this.#redis
  }

  /** Reads the Skald's registration and heartbeats the way Python's controller does, under the run's prefix. */
  async reader(): Promise<SkaldStateReader> {
    return createSkaldStateReader(createRedisSkaldStateBackend(await this.redis()))
  }

  async store(): Promise<MongoTaskStore> {
    this.#store ??= await MongoTaskStore.connect({ url: mongoUrl(), dbName: this.dbName })
    return this.#store
  }

  /** The bus the examples use, as a controller would publish on it. */
  async eventBus(): Promise<EventBus> {
    this.#bus ??=
      this.bus === 'kafka'
        ? new KafkaBus({ brokers: kafkaBrokers(), logger: silentLogger })
        : new RedisStreamsBus({ connection: await this.redis(), logger: silentLogger })
    return this.#bus
  }

  /** Kills what is still running, then removes the run's database, keys, Kafka group and folder. */
  async cleanup(): Promise<void> {
    for (const p of this.processes) if (p.running) p.child.kill('SIGKILL')
    await Promise.all(this.processes.map((p) => within(p.exited, `${p.name} to die`, 10_000).catch(() => undefined)))
    await this.#bus?.close()
    await this.#store?.close()
    const client = await MongoClient.connect(mongoUrl())
    try {
      await client.db(this.dbName).dropDatabase()
    } finally {
      await client.close()
    }
    const redis = await this.redis()
    await deleteKeysWithPrefix(redis, this.prefix)
    await redis.close()
    if (this.bus === 'kafka') {
      const admin = new Admin({ clientId: 'examples-test-cleanup', bootstrapBrokers: [kafkaBrokers()] })
      try {
        await admin.deleteGroups({ groups: [`skalds-node-${this.skaldId}`] })
      } catch {
        // the group may be gone already
      } finally {
        await admin.close()
      }
    }
    rmSync(this.cwd, { recursive: true, force: true })
  }
}

const runs: ExampleRun[] = []
const newRun = (label: string, bus: 'kafka' | 'redis-streams'): ExampleRun => {
  const run = new ExampleRun(label, bus)
  runs.push(run)
  return run
}
after(async () => {
  await Promise.all(runs.map((r) => r.cleanup()))
})

void describe('examples/single_task_worker_define: an edge Skald running its YAML file (Kafka)', () => {
  const run = newRun('edge', 'kafka')
  let edge: ExampleProcess
  before(() => {
    copyFileSync(example('single_task_worker_define/all_workers.yml'), join(run.cwd, 'all_workers.yml'))
    edge = run.start('single_task_worker_define/skald-edge.ts', { YAML_FILE: join(run.cwd, 'all_workers.yml') })
  })

  void it('runs TaskWorker1 with the attachments of the file (snake_case field names)', async () => {
    await edge.waitLine(`[skald] edge Skald ${run.skaldId} running the tasks of ${join(run.cwd, 'all_workers.yml')}; Ctrl-C stops it`, START_MS)
    await edge.waitLine('[TaskWorker1] Starting MyWorker with RTSP URL: rtsp://192.168.1.1/camera1')
    const main = await edge.waitLine('[TaskWorker1] Running main logic for MyWorker')
    const first = await edge.waitLine('[TaskWorker1] RTSP URL: rtsp://192.168.1.1/camera1, Fix Frame: 10', 5000, main)
    // and again a second later: main loops
    await edge.waitLine('[TaskWorker1] RTSP URL: rtsp://192.168.1.1/camera1, Fix Frame: 10', 5000, first + 1)
  })

  void it('stores it as an Active task of its own, Running', async () => {
    const task = await (await run.store()).get('TaskWorker1')
    assert.ok(task)
    assert.equal(task.mode, 'Active')
    assert.equal(task.lifecycleStatus, 'Running')
    assert.equal(task.executor, run.skaldId)
    assert.equal(task.className, 'MySimpleWorker')
    assert.equal(task.source, 'YAML')
    assert.deepEqual(task.attachments, { fix_frame: 10, rtsp_url: 'rtsp://192.168.1.1/camera1' })
  })

  void it('registers in Redis as edge, with its class, its task and heartbeats', async () => {
    const reader = await run.reader()
    const activity = (await reader.activity()).get(run.skaldId)
    assert.ok(activity !== undefined && Math.abs(Date.now() - activity) < 60_000, `skalds:hash has a recent timestamp for the edge, got ${activity}`)
    const node = await waitFor(async () => {
      const n = await reader.node(run.skaldId)
      return n?.allTasks.tasks.some((t) => t.id === 'TaskWorker1') ? n : undefined
    }, 'the edge listing TaskWorker1')
    assert.equal(node.mode, 'edge', 'skalds:mode:hash')
    assert.deepEqual(node.classNames, ['MySimpleWorker'])
    assert.deepEqual(node.allTasks.tasks, [{ id: 'TaskWorker1', className: 'MySimpleWorker' }])
    const task = await reader.task('TaskWorker1')
    assert.equal(task.heartbeatPresent, true)
    assert.ok(task.heartbeat >= 0 && task.heartbeat < 200, `a running heartbeat, got ${task.heartbeat}`)
  })

  void it('SIGTERM: drains (the task gets the drain timeout, then is handed back) and exits 0', async () => {
    const exit = await edge.terminate(DRAIN_TIMEOUT_MS + 15_000)
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, edge.tail())
    // the task ran on through the drain timeout, was stopped, and the Skald closed its connections soon after
    assert.ok(exit.ms < DRAIN_TIMEOUT_MS + 8000, `exited ${Math.round(exit.ms)} ms after SIGTERM`)
    assert.ok(edge.logged('signal: draining'))
    assert.ok(edge.logged('drain timeout: aborting the remaining tasks with shutdown'))
    assert.ok(edge.logged('Skald stopped'))
    assert.ok(edge.lines.includes('[TaskWorker1] ended: Created'), edge.tail())
    const task = (await (await run.store()).get('TaskWorker1'))!
    assert.equal(task.lifecycleStatus, 'Created', 'a persistent task is handed back at shutdown, never Cancelled')
    assert.equal(task.executor, null)
  })
})

void describe('examples/single_task_worker_define: start-up errors', () => {
  const run = newRun('edge-bad', 'redis-streams')

  void it('a YAML file naming a class the edge does not register: exit 2, file:line: field: reason, nothing stored', async () => {
    const file = join(run.cwd, 'broken.yml')
    writeFileSync(file, 'TaskWorkers:\n  TaskWorker1:\n    className: MySimpleWorker\n  TaskWorker2:\n    className: MyOtherWorker\n')
    const edge = run.start('single_task_worker_define/skald-edge.ts', { YAML_FILE: file })
    assert.deepEqual(await within(edge.exited, 'the edge to give up', START_MS), { code: 2, signal: null }, edge.tail())
    assert.deepEqual(edge.stderr, [`skald-edge: ${file}:4: TaskWorkers.TaskWorker2.className: class "MyOtherWorker" is not registered on this Skald (registered: MySimpleWorker)`])
    assert.equal(await (await run.store()).get('TaskWorker1'), null)
    assert.equal(await (await run.reader()).node(run.skaldId), undefined)
  })
})

void describe('examples/single_task_worker_with_skald_node: a node Skald and create-task-script (Redis Streams)', () => {
  const run = newRun('node', 'redis-streams')
  let node: ExampleProcess
  before(() => {
    node = run.start('single_task_worker_with_skald_node/skald-node.ts')
  })

  void it('starts and registers as node', async () => {
    await node.waitLine(`[skald] node Skald ${run.skaldId} waiting for tasks on redis-streams; Ctrl-C stops it`, START_MS)
    const registered = await (await run.reader()).node(run.skaldId)
    assert.equal(registered?.mode, 'node')
    assert.deepEqual(registered.classNames, ['MySimpleWorker'])
  })

  void it('create-task-script: the task is stored, assigned to the node and run', async () => {
    const out = await run.script('single_task_worker_with_skald_node/create-task-script.ts')
    assert.deepEqual(out, [
      `created task ${run.taskId} (MySimpleWorker)`,
      `assigned task ${run.taskId} to ${run.skaldId} (epoch 1) and published task.assign on redis-streams`,
    ])
    await node.waitLine(`[${run.taskId}] started (MySimpleWorker, epoch 1, attempt 1)`)
    await node.waitLine(`[${run.taskId}] Starting MyWorker with RTSP URL: rtsp://example.com/stream`)
    await node.waitLine(`[${run.taskId}] RTSP URL: rtsp://example.com/stream, Fix Frame: 10`)
    const task = (await (await run.store()).get(run.taskId))!
    assert.equal(task.lifecycleStatus, 'Running')
    assert.equal(task.executor, run.skaldId)
    assert.equal(task.source, 'TestingScript')
    assert.deepEqual(task.attachments, { rtspUrl: 'rtsp://example.com/stream', fixFrame: 10 })
    const state = await (await run.reader()).task(run.taskId)
    assert.equal(state.heartbeatPresent, true)
  })

  void it('a task.cancel stops it: Cancelled in the store, −2 in Redis', async () => {
    await publish(await run.eventBus(), Topic.TaskCancel, run.taskId)
    await node.waitLine(`[${run.taskId}] ended: Cancelled`)
    assert.equal((await (await run.store()).get(run.taskId))!.lifecycleStatus, 'Cancelled')
    assert.equal((await (await run.reader()).task(run.taskId)).heartbeat, -2)
  })

  void it('create-task-script again: the task exists, is assigned once more (epoch 2) and runs again', async () => {
    const from = node.lines.length
    const out = await run.script('single_task_worker_with_skald_node/create-task-script.ts')
    assert.deepEqual(out, [
      `task ${run.taskId} exists already; assigning it again`,
      `assigned task ${run.taskId} to ${run.skaldId} (epoch 2) and published task.assign on redis-streams`,
    ])
    await node.waitLine(`[${run.taskId}] started (MySimpleWorker, epoch 2, attempt 2)`, 20_000, from)
    await node.waitLine(`[${run.taskId}] RTSP URL: rtsp://example.com/stream, Fix Frame: 10`, 20_000, from)
    await publish(await run.eventBus(), Topic.TaskCancel, run.taskId)
    await node.waitLine(`[${run.taskId}] ended: Cancelled`, 20_000, from)
  })

  void it('SIGTERM with nothing running: exits 0 at once', async () => {
    const exit = await node.terminate(DRAIN_TIMEOUT_MS)
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, node.tail())
    assert.ok(exit.ms < DRAIN_TIMEOUT_MS / 2, `exited after ${Math.round(exit.ms)} ms`)
    assert.ok(node.logged('Skald stopped'))
  })
})

void describe('examples/update_task_worker_with_skald_node: a node Skald, create- and update-task-script (Kafka)', () => {
  const run = newRun('update', 'kafka')
  let node: ExampleProcess
  before(() => {
    node = run.start('update_task_worker_with_skald_node/skald-node.ts')
  })

  void it('runs the task create-task-script assigns', async () => {
    await node.waitLine(`[skald] node Skald ${run.skaldId} waiting for tasks on kafka; Ctrl-C stops it`, START_MS)
    const out = await run.script('update_task_worker_with_skald_node/create-task-script.ts')
    assert.equal(out.at(-1), `assigned task ${run.taskId} to ${run.skaldId} (epoch 1) and published task.assign on kafka`)
    await node.waitLine(`[${run.taskId}] RTSP URL: rtsp://example.com/stream, Fix Frame: 10`)
  })

  void it('update-task-script: the worker update hook sees the new attachments, and main goes on with them', async () => {
    const from = node.lines.length
    const out = await run.script('update_task_worker_with_skald_node/update-task-script.ts')
    assert.deepEqual(out, [`stored the new attachments of task ${run.taskId} and published task.update.attachment on kafka`])
    const hook = await node.waitLine(`[${run.taskId}] Updating MyWorker with RTSP URL: rtsp://example.com/new_stream, Fix Frame: 60`, 20_000, from)
    await node.waitLine(`[${run.taskId}] RTSP URL: rtsp://example.com/new_stream, Fix Frame: 60`, 5000, hook)
    const task = (await (await run.store()).get(run.taskId))!
    assert.deepEqual(task.attachments, { rtspUrl: 'rtsp://example.com/new_stream', fixFrame: 60 })
    assert.equal(task.lifecycleStatus, 'Running')
    assert.equal(task.runtime.lastError, null, 'the update was accepted')
  })

  void it('update-task-script for a task that does not exist: exits 1, publishes nothing', async () => {
    const p = run.start('update_task_worker_with_skald_node/update-task-script.ts', { TASK_ID: `${run.taskId}-missing` })
    assert.deepEqual(await within(p.exited, 'the script to end', 30_000), { code: 1, signal: null })
    assert.deepEqual(p.stderr, [`no task ${run.taskId}-missing: run create-task-script.ts first`])
  })

  void it('a task.cancel stops it, SIGTERM ends the node with 0', async () => {
    await publish(await run.eventBus(), Topic.TaskCancel, run.taskId)
    await node.waitLine(`[${run.taskId}] ended: Cancelled`)
    assert.equal((await (await run.store()).get(run.taskId))!.lifecycleStatus, 'Cancelled')
    const exit = await node.terminate(DRAIN_TIMEOUT_MS)
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, node.tail())
  })
})
