// `npm run bench -- worker`: the worker runtime through the real node path. A node-mode TaskWorkerManager
// (src/skald/task-manager.ts) on Redis Streams, with a SQLite store in a temp dir and the Redis wire-state writer
// (stateTaskReporter → SkaldStatePublisher → Redis backend), runs the fixture bench/fixtures/worker-parked.ts.
// Or alone: `npx node bench/worker.ts` after `eval "$(bash scripts/services.sh env)"`.
//
// Scenarios (`subject: "skalds"`; each latency row is one timed operation after another, never two at once):
// - start-<mode>: `bus.publish('task.assign')` (the task created and claimed for the node first, untimed) → the
//   node's `{type:'worker', event:{type:'hook', hook:'main'}}` event. Modes: process from the warm pool (poolSize 2),
//   process cold (a second node whose process host has poolSize 0), thread (warm pool), inline. Before each sample the
//   node is idle and its pools full again, so every warm sample takes a booted child and no sample shares the machine
//   with a child booting. The three warm modes are sampled round-robin, so a change of load hits all of them alike.
// - update-to-hook: `store.update(attachments)`, then `publish('task.update.attachment')` → the worker's `update`
//   hook event (a process-isolated task), timed from the publish.
// - cancel-to-exit: `publish('task.cancel')` → the run's `done` event (the host saw the child exit and its output
//   drain); the child's pid is then checked to be gone. Each start-process sample's task is cancelled this way.
// - idle-1000-inline: 1,000 inline tasks parked in ctx.sleep on one node, the state publisher ticking (3 s): this
//   process' CPU time over a window of BENCH_WORKER_IDLE_SECONDS (default 18, at least 15) after all are running,
//   and the Redis commands of that window from `INFO commandstats` deltas on two throwaway redis-servers only this
//   scenario uses (one for the state writer, one for the bus), plus round trips per tick counted at the client.
//
// Row fields beyond the lib.ts shape: latency rows have `samples`, `isolation`, `minMs`, `maxMs`; their `opsPerSec`
// is 1000 / the mean latency (the rate of that operation done one at a time). The idle row's `opsPerSec` is task
// heartbeats written per second, its `p50Ms`/`p99Ms` the tick's round trip, and it carries `cpuPercent`,
// `redisCommandsPerSec` and the breakdown. Sizes: BENCH_WORKER_SAMPLES (default 200; cold gets a quarter);
// BENCH_WORKER_ONLY=warm,cold,idle picks groups of scenarios.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { RedisStreamsBus } from '../src/bus/redis-streams.ts'
import type { EventBus } from '../src/bus/types.ts'
import { silentLogger } from '../src/config/logger.ts'
import { createTaskEvent, toWireTaskEvent } from '../src/model/events.ts'
import { Topic } from '../src/model/topics.ts'
import { RedisConnection } from '../src/redis/connection.ts'
import type { NodeEvent } from '../src/skald/node-events.ts'
import { createRedisSkaldStateBackend } from '../src/state/redis.ts'
import type { SkaldStateBackend } from '../src/state/backend.ts'
import { createSkaldStatePublisher, type SkaldStatePublisher } from '../src/state/publisher.ts'
import { createSkaldStateReader } from '../src/state/reader.ts'
import { stateTaskReporter } from '../src/skald/state-reporter.ts'
import { TaskWorkerManager, type WorkerClass } from '../src/skald/task-manager.ts'
import type { TaskStore } from '../src/store/task-store.ts'
import { SqliteTaskStore } from '../src/store/sqlite-task-store.ts'
import type { Isolation } from '../src/worker/definition.ts'
import type { WorkerEvent, WorkerHost } from '../src/worker/index.ts'
import { InlineHost, ProcessHost, ThreadHost } from '../src/worker/hosts.ts'
import { rawBulk, RedisProcess } from '../test/helpers/redis-process.ts'
import { type BenchResult, describeError, percentile, positiveInteger, report, round } from './lib.ts'

const SAMPLES = positiveInteger('BENCH_WORKER_SAMPLES', 200)
const COLD_SAMPLES = Math.max(10, Math.round(SAMPLES / 4))
/** untimed rounds first: JIT, the worker module's first import (inline), the streams and consumer groups */
const WARMUP = 5
const IDLE_TASKS = positiveInteger('BENCH_WORKER_IDLE_TASKS', 1000)
const IDLE_SECONDS = Math.max(15, positiveInteger('BENCH_WORKER_IDLE_SECONDS', 18))
const POOL_SIZE = 2
/**
 * BENCH_WORKER_ONLY=warm,cold,idle (any of them) runs only those groups, for comparing one figure across changes;
 * the JSON then holds only their rows (do not commit such a run).
 */
const PARTS = new Set((process.env.BENCH_WORKER_ONLY ?? 'warm,cold,idle').split(',').map((p) => p.trim()))
for (const part of PARTS) if (!['warm', 'cold', 'idle'].includes(part)) throw new Error(`BENCH_WORKER_ONLY: unknown group ${JSON.stringify(part)} (warm, cold, idle)`)
const WAIT_MS = 60_000

const FIXTURE = new URL('./fixtures/worker-parked.ts', import.meta.url)
const workerClass = (name: string, isolation: Isolation): WorkerClass => ({ worker: { module: FIXTURE, export: name }, isolation })
const WORKERS: Record<string, WorkerClass> = {
  BenchProcess: workerClass('BenchProcess', 'process'),
  BenchThread: workerClass('BenchThread', 'thread'),
  BenchInline: workerClass('BenchInline', 'inline'),
  BenchIdle: workerClass('BenchIdle', 'inline'),
}

export const TARGETS = {
  'start-process': 50,
  'start-process-cold': 150,
  'start-inline': 5,
  'update-to-hook': 50,
  idleCpuPercent: 10,
  idleRoundTripsPerTick: 1,
} as const

/** Fields of the latency rows beyond lib.ts' shape. */
interface LatencyFields {
  isolation: string
  samples: number
  minMs: number
  maxMs: number
  /** the host's warm pool (null: inline) */
  poolSize: number | null
  /** cancel-to-exit: cancel → the task-ended event (Cancelled written) */
  storedP50Ms: number
  /** cancel-to-exit: runs whose child pid was still alive after the done event (should be 0) */
  pidStillAlive: number
  /** update-to-hook: publish → the update-forwarded event (the worker's answer back on the node) */
  forwardedP50Ms: number
}

/** Fields of the idle row. */
interface IdleFields {
  tasks: number
  windowSeconds: number
  /** CPU time of this process over the window, % of one core */
  cpuPercent: number
  /** commands executed by both throwaway servers per second (commandstats; includes those run by Lua scripts) */
  redisCommandsPerSec: number
  stateRedisCommandsPerSec: number
  busRedisCommandsPerSec: number
  ticks: number
  /** requests the state writer's connection sent per tick (a MULTI/EXEC transaction counts one) */
  roundTripsPerTick: number
  multiExecPerTick: number
  stateCommandsPerTick: Record<string, number>
  busCommandsPerSec: Record<string, number>
  rampSeconds: number
  rssMb: number
}

export type WorkerBenchResult = BenchResult & Partial<LatencyFields> & Partial<IdleFields>

/** Rows printed after the table but kept out of the JSON (informative). */
const extraRows: WorkerBenchResult[] = []

type Timed = { event: NodeEvent; at: number }
type Listener = { match: (e: NodeEvent) => boolean; resolve: (t: Timed) => void }

/** A manager wired to the bench's bus, store and state writer; its events routed, timestamped on arrival. */
class BenchNode {
  readonly manager: TaskWorkerManager
  readonly skaldId: string
  readonly hosts: { process?: ProcessHost; thread?: ThreadHost; inline?: InlineHost } = {}
  readonly #listeners = new Map<string, Listener[]>()
  readonly #taps: Array<(e: NodeEvent) => void> = []
  readonly #poolSize: number

  constructor(skaldId: string, bus: EventBus, store: TaskStore, reporter: ReturnType<typeof stateTaskReporter>, poolSize: number, maxTasks = 16) {
    this.skaldId = skaldId
    this.#poolSize = poolSize
    this.manager = new TaskWorkerManager({
      skaldId,
      bus,
      store,
      workers: WORKERS,
      reporter,
      logger: silentLogger,
      limits: { maxTasks },
      createHost: (isolation) => this.#host(isolation),
      onEvent: (event) => this.#route(event),
    })
  }

  #host(isolation: Isolation): WorkerHost {
    const common = { graceMs: 5000 }
    switch (isolation) {
      case 'process':
        return (this.hosts.process = new ProcessHost({ ...common, poolSize: this.#poolSize }))
      case 'thread':
        return (this.hosts.thread = new ThreadHost({ ...common, poolSize: this.#poolSize }))
      case 'inline':
        return (this.hosts.inline = new InlineHost(common))
    }
  }

  #route(event: NodeEvent): void {
    const at = performance.now()
    for (const tap of this.#taps) tap(event)
    const listeners = this.#listeners.get(event.taskId)
    if (!listeners) return
    for (let i = 0; i < listeners.length; i++) {
      const l = listeners[i]!
      if (!l.match(event)) continue
      listeners.splice(i--, 1)
      l.resolve({ event, at })
    }
    if (listeners.length === 0) this.#listeners.delete(event.taskId)
  }

  /** Every event, synchronously (keep it cheap). */
  tap(listener: (e: NodeEvent) => void): void {
    this.#taps.push(listener)
  }

  /** The next event of `taskId` matching: register before causing it. */
  next(taskId: string, match: (e: NodeEvent) => boolean, what: string, timeoutMs = WAIT_MS): Promise<Timed> {
    return new Promise<Timed>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.skaldId}: no ${what} of ${taskId} within ${timeoutMs} ms`)), timeoutMs)
      const list = this.#listeners.get(taskId) ?? []
      list.push({ match, resolve: (t) => (clearTimeout(timer), resolve(t)) })
      this.#listeners.set(taskId, list)
    })
  }

  /** No task on the node, and every pool it has full again. */
  async settled(): Promise<void> {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      const { process: p, thread: t } = this.hosts
      const full = (h: ProcessHost | ThreadHost | undefined): boolean => h === undefined || h.warm >= this.#poolSize
      if (this.manager.running.length === 0 && full(p) && full(t)) return
      if (Date.now() > deadline) throw new Error(`${this.skaldId}: not settled within ${WAIT_MS} ms (running ${this.manager.running.length}, warm ${p?.warm} / ${t?.warm})`)
      await sleep(5)
    }
  }
}

const isWorker = (type: WorkerEvent['type']) => (e: NodeEvent): boolean => e.type === 'worker' && e.event.type === type
const isHook = (hook: string) => (e: NodeEvent): boolean => e.type === 'worker' && e.event.type === 'hook' && e.event.hook === hook
const isEnded = (e: NodeEvent): boolean => e.type === 'task-ended'

let seq = 0
const newId = (label: string): string => `bench-${label}-${process.pid}-${++seq}`

function publish(bus: EventBus, topic: string, ids: string[]): Promise<void> {
  return bus.publish(topic, ids[0]!, toWireTaskEvent({ ...createTaskEvent(ids[0]!), taskIds: ids }))
}

/** Creates the task and claims it for the node (as a dispatcher does), untimed. */
async function createClaimed(store: TaskStore, node: BenchNode, className: string, attachments: Record<string, unknown> = {}): Promise<string> {
  const id = newId(className)
  await store.create({ id, className, source: 'bench', attachments })
  await store.claim(id, { executor: node.skaldId })
  return id
}

interface StartSample {
  startMs: number
  cancelMs: number
  /** cancel → the task-ended event (Cancelled written to the store) */
  cancelStoredMs: number
  /** the run's pid (process isolation) was still alive after its done event */
  pidAlive: boolean
}

/** One start (assign → main) and one cancel (cancel → done) of a fresh task of `className`. */
async function startAndCancel(bus: EventBus, store: TaskStore, node: BenchNode, className: string, isolation: Isolation): Promise<StartSample> {
  await node.settled()
  const id = await createClaimed(store, node, className)
  const started = node.next(id, isWorker('started'), 'started event')
  const main = node.next(id, isHook('main'), 'main hook')
  const t0 = performance.now()
  await publish(bus, Topic.TaskAssign, [id])
  const entered = await main
  const startedEvent = (await started).event
  const pid = startedEvent.type === 'worker' && startedEvent.event.type === 'started' ? startedEvent.event.pid : null
  const done = node.next(id, isWorker('done'), 'done event')
  const ended = node.next(id, isEnded, 'task-ended event')
  const t1 = performance.now()
  await publish(bus, Topic.TaskCancel, [id])
  const gone = await done
  const stored = await ended
  if (stored.event.type === 'task-ended' && stored.event.status !== 'Cancelled') throw new Error(`${id}: ended ${stored.event.status}, not Cancelled`)
  return { startMs: entered.at - t0, cancelMs: gone.at - t1, cancelStoredMs: stored.at - t1, pidAlive: isolation === 'process' && pid !== null && pidExists(pid) }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function latencyRow(scenario: string, isolation: string, samples: number[], extra: Partial<LatencyFields> = {}): WorkerBenchResult {
  const sorted = Float64Array.from(samples).sort()
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)
  return {
    scenario,
    subject: 'skalds',
    opsPerSec: mean > 0 ? Math.round(1000 / mean) : 0,
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    samples: samples.length,
    isolation,
    minMs: round(sorted[0] ?? 0),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    ...extra,
  }
}

function failedRow(scenario: string, isolation: string, error: unknown): WorkerBenchResult {
  return { scenario, subject: 'skalds', opsPerSec: 0, p50Ms: 0, p99Ms: 0, isolation, errors: [describeError(error)] }
}

/** start-process / -thread / -inline, cancel-to-exit and update-to-hook on one node with warm pools. */
async function warmScenarios(bus: EventBus, store: TaskStore, reporter: ReturnType<typeof stateTaskReporter>): Promise<WorkerBenchResult[]> {
  const node = new BenchNode(`bench-warm-${process.pid}`, bus, store, reporter, POOL_SIZE)
  await node.manager.start()
  const modes = [
    { scenario: 'start-inline', className: 'BenchInline', isolation: 'inline' },
    { scenario: 'start-thread', className: 'BenchThread', isolation: 'thread' },
    { scenario: 'start-process', className: 'BenchProcess', isolation: 'process' },
  ] as const
  const samples = new Map<string, StartSample[]>(modes.map((m) => [m.scenario, []]))
  const errors = new Map<string, unknown>()
  const rows: WorkerBenchResult[] = []
  try {
    const started = performance.now()
    for (let round = -WARMUP; round < SAMPLES; round++) {
      for (const mode of modes) {
        if (errors.has(mode.scenario)) continue
        try {
          const sample = await startAndCancel(bus, store, node, mode.className, mode.isolation)
          if (round >= 0) samples.get(mode.scenario)!.push(sample)
        } catch (error) {
          errors.set(mode.scenario, error)
        }
      }
    }
    console.error(`bench worker: ${modes.map((m) => m.scenario).join(', ')} measured in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    for (const mode of modes) {
      const got = samples.get(mode.scenario)!
      const error = errors.get(mode.scenario)
      if (got.length === 0) {
        rows.push(failedRow(mode.scenario, mode.isolation, error ?? new Error('no sample')))
        continue
      }
      const row = latencyRow(mode.scenario, mode.isolation, got.map((s) => s.startMs), { poolSize: mode.isolation === 'inline' ? null : POOL_SIZE })
      if (error !== undefined) row.errors = [describeError(error)]
      rows.push(row)
      const cancel = latencyRow('cancel-to-exit', mode.isolation, got.map((s) => s.cancelMs), {
        storedP50Ms: round(percentile(Float64Array.from(got.map((s) => s.cancelStoredMs)).sort(), 0.5)),
        pidStillAlive: got.filter((s) => s.pidAlive).length,
      })
      if (mode.isolation === 'process') rows.push(cancel)
      else extraRows.push(cancel)
    }
    rows.push(await updateToHook(bus, store, node))
  } finally {
    await node.manager.close()
  }
  return rows
}

/** update-to-hook on one process-isolated task: SAMPLES updates, one at a time. */
async function updateToHook(bus: EventBus, store: TaskStore, node: BenchNode): Promise<WorkerBenchResult> {
  try {
    const id = await createClaimed(store, node, 'BenchProcess', { n: 0 })
    const main = node.next(id, isHook('main'), 'main hook')
    await publish(bus, Topic.TaskAssign, [id])
    await main
    // The pool refills behind the child this task took: measure once that boot is over.
    await waitUntil(() => (node.hosts.process?.warm ?? 0) >= POOL_SIZE, 'the process pool to refill')
    const latencies: number[] = []
    const forwardedAt: number[] = []
    for (let i = -WARMUP; i < SAMPLES; i++) {
      await store.update(id, { attachments: { n: i + WARMUP + 1 } })
      const hook = node.next(id, isHook('update'), 'update hook')
      const forwarded = node.next(id, (e) => e.type === 'update-forwarded', 'update-forwarded')
      const t0 = performance.now()
      await publish(bus, Topic.TaskUpdateAttachment, [id])
      const entered = await hook
      const done = await forwarded
      if (done.event.type === 'update-forwarded' && !done.event.accepted) throw new Error(`update ${i} rejected: ${done.event.reason}`)
      if (i >= 0) {
        latencies.push(entered.at - t0)
        forwardedAt.push(done.at - t0)
      }
    }
    const ended = node.next(id, isEnded, 'task-ended event')
    await publish(bus, Topic.TaskCancel, [id])
    await ended
    return latencyRow('update-to-hook', 'process', latencies, {
      forwardedP50Ms: round(percentile(Float64Array.from(forwardedAt).sort(), 0.5)),
    })
  } catch (error) {
    return failedRow('update-to-hook', 'process', error)
  }
}

/** start-process-cold: a node whose process host keeps no pool, so every task forks. */
async function coldScenario(bus: EventBus, store: TaskStore, reporter: ReturnType<typeof stateTaskReporter>): Promise<WorkerBenchResult> {
  const node = new BenchNode(`bench-cold-${process.pid}`, bus, store, reporter, 0)
  await node.manager.start()
  const samples: StartSample[] = []
  try {
    const started = performance.now()
    for (let i = -WARMUP; i < COLD_SAMPLES; i++) {
      const sample = await startAndCancel(bus, store, node, 'BenchProcess', 'process')
      if (i >= 0) samples.push(sample)
    }
    console.error(`bench worker: start-process-cold measured in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    extraRows.push(
      latencyRow('cancel-to-exit', 'process-cold', samples.map((s) => s.cancelMs), { pidStillAlive: samples.filter((s) => s.pidAlive).length }),
    )
    return latencyRow('start-process-cold', 'process', samples.map((s) => s.startMs), { poolSize: 0 })
  } catch (error) {
    return failedRow('start-process-cold', 'process', error)
  } finally {
    await node.manager.close()
  }
}

/** `INFO commandstats` of a server as command → calls (INFO itself left out: the bench's own reads). */
async function commandCalls(port: number): Promise<Map<string, number>> {
  const text = await rawBulk(port, 'INFO commandstats')
  const calls = new Map<string, number>()
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (match[1] !== 'info') calls.set(match[1]!, Number(match[2]))
  return calls
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>()
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0)
    if (d > 0) out.set(name, d)
  }
  return out
}

const byName = (m: Map<string, number>): Array<[string, number]> => [...m].sort(([a], [b]) => a.localeCompare(b))
const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)

/** Counts the requests a connection sends (each `send` or `transaction` call is one request and its reply). */
function countRequests(connection: RedisConnection): { requests: number } {
  const counter = { requests: 0 }
  const send = connection.send.bind(connection)
  const transaction = connection.transaction.bind(connection)
  connection.send = ((...args: Parameters<typeof send>) => {
    counter.requests++
    return send(...args)
  })
  connection.transaction = (...args: Parameters<typeof transaction>) => {
    counter.requests++
    return transaction(...args)
  }
  return counter
}

/** The backend with every apply() (a tick, when nothing starts or ends) counted and timed. */
function timedBackend(backend: SkaldStateBackend): { backend: SkaldStateBackend; applies: number[] } {
  const applies: number[] = []
  return {
    applies,
    backend: {
      kind: backend.kind,
      apply: async (ops) => {
        const t0 = performance.now()
        const result = await backend.apply(ops)
        applies.push(performance.now() - t0)
        return result
      },
      getString: (key) => backend.getString(key),
      getHashField: (key, field) => backend.getHashField(key, field),
      getHash: (key) => backend.getHash(key),
      getList: (key) => backend.getList(key),
      close: () => backend.close(),
    },
  }
}

/** idle-1000-inline on throwaway servers: CPU of this process and Redis commands while the tasks only heartbeat. */
async function idleScenario(store: TaskStore): Promise<WorkerBenchResult> {
  const stateServer = await RedisProcess.start()
  const busServer = await RedisProcess.start()
  const stateConnection = await RedisConnection.connect({ url: stateServer.url, logger: silentLogger })
  const busConnection = await RedisConnection.connect({ url: busServer.url, logger: silentLogger })
  const requests = countRequests(stateConnection)
  const bus = new RedisStreamsBus({ connection: busConnection, logger: silentLogger })
  const timed = timedBackend(createRedisSkaldStateBackend(stateConnection))
  const publisher: SkaldStatePublisher = createSkaldStatePublisher(timed.backend)
  const reporterErrors: unknown[] = []
  const skaldId = `bench-idle-${process.pid}`
  await publisher.register({ skaldId, mode: 'node', classNames: ['BenchIdle'], capacity: IDLE_TASKS })
  publisher.startTicking()
  const node = new BenchNode(skaldId, bus, store, stateTaskReporter(publisher, (e) => reporterErrors.push(e)), 0, IDLE_TASKS)
  let mains = 0
  let ended = 0
  node.tap((e) => {
    if (e.type === 'task-ended') ended++
    else if (e.type === 'worker' && e.event.type === 'hook' && e.event.hook === 'main') mains++
  })
  await node.manager.start()
  const ids: string[] = []
  try {
    const rampStart = performance.now()
    for (let i = 0; i < IDLE_TASKS; i++) ids.push(await createClaimed(store, node, 'BenchIdle'))
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => publish(bus, Topic.TaskAssign, [id])))
    await waitUntil(() => mains >= IDLE_TASKS, `${IDLE_TASKS} inline tasks to enter main`, 120_000)
    const rampMs = performance.now() - rampStart
    // Start the window right after a tick that carried every task.
    const ticks = timed.applies.length
    await waitUntil(() => timed.applies.length > ticks, 'a tick', 10_000)

    const before = { cpu: process.cpuUsage(), at: performance.now(), state: await commandCalls(stateServer.port), bus: await commandCalls(busServer.port) }
    const beforeApplies = timed.applies.length
    const beforeRequests = requests.requests
    await sleep(IDLE_SECONDS * 1000)
    const cpu = process.cpuUsage(before.cpu)
    const seconds = (performance.now() - before.at) / 1000
    const state = delta(await commandCalls(stateServer.port), before.state)
    const busCalls = delta(await commandCalls(busServer.port), before.bus)
    const tickTimes = timed.applies.slice(beforeApplies)
    const windowRequests = requests.requests - beforeRequests
    const rssMb = Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10

    if (node.manager.running.length !== IDLE_TASKS) throw new Error(`only ${node.manager.running.length} of ${IDLE_TASKS} tasks still running after the window`)
    // The heartbeats really are there, as the Python controller reads them.
    const reader = createSkaldStateReader(timed.backend)
    for (const id of [ids[0]!, ids[Math.floor(ids.length / 2)]!, ids.at(-1)!]) {
      const beat = (await reader.task(id)).heartbeat
      if (!(beat >= 0 && beat <= 199)) throw new Error(`${id}: heartbeat ${beat}, not a running value`)
    }

    const tickCount = tickTimes.length
    const perTick = (n: number): number => (tickCount > 0 ? round(n / tickCount, 2) : 0)
    const sortedTicks = Float64Array.from(tickTimes).sort()
    const stateTotal = sum(state)
    const busTotal = sum(busCalls)
    return {
      scenario: 'idle-1000-inline',
      subject: 'skalds',
      opsPerSec: Math.round((IDLE_TASKS * tickCount) / seconds),
      p50Ms: round(percentile(sortedTicks, 0.5)),
      p99Ms: round(percentile(sortedTicks, 0.99)),
      tasks: IDLE_TASKS,
      windowSeconds: round(seconds, 1),
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100, 2),
      redisCommandsPerSec: round((stateTotal + busTotal) / seconds, 1),
      stateRedisCommandsPerSec: round(stateTotal / seconds, 1),
      busRedisCommandsPerSec: round(busTotal / seconds, 1),
      ticks: tickCount,
      roundTripsPerTick: perTick(windowRequests),
      multiExecPerTick: perTick(state.get('exec') ?? 0),
      stateCommandsPerTick: Object.fromEntries(byName(state).map(([name, calls]) => [name, perTick(calls)])),
      busCommandsPerSec: Object.fromEntries(byName(busCalls).map(([name, calls]) => [name, round(calls / seconds, 2)])),
      rampSeconds: round(rampMs / 1000, 1),
      rssMb,
      ...(reporterErrors.length > 0 ? { errors: reporterErrors.slice(0, 5).map(describeError) } : {}),
    }
  } catch (error) {
    return failedRow('idle-1000-inline', 'inline', error)
  } finally {
    try {
      if (ids.length > 0) {
        for (let i = 0; i < ids.length; i += 100) await publish(bus, Topic.TaskCancel, ids.slice(i, i + 100))
        await waitUntil(() => ended >= ids.length || node.manager.running.length === 0, 'the idle tasks to end', 60_000).catch(() => {})
      }
      await node.manager.close()
    } finally {
      await publisher.close()
      await bus.close()
      await Promise.allSettled([stateConnection.close(), busConnection.close()])
      await Promise.allSettled([stateServer.stop(), busServer.stop()])
    }
  }
}

export async function run(): Promise<WorkerBenchResult[]> {
  const url = required('REDIS_URL')
  required('REDIS_SERVER_BIN')
  const dir = mkdtempSync(join(tmpdir(), 'skalds-bench-worker-'))
  const store = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  const prefix = `bench:worker:${randomUUID().slice(0, 8)}:`
  const connection = await RedisConnection.connect({ url, keyPrefix: prefix, logger: silentLogger })
  const bus = new RedisStreamsBus({ connection, logger: silentLogger })
  const publisher = createSkaldStatePublisher(createRedisSkaldStateBackend(connection))
  const reporterErrors: unknown[] = []
  const reporter = stateTaskReporter(publisher, (e) => reporterErrors.push(e))
  await publisher.register({ skaldId: `bench-warm-${process.pid}`, mode: 'node', classNames: Object.keys(WORKERS) })
  publisher.startTicking()
  const results: WorkerBenchResult[] = []
  try {
    const warm = PARTS.has('warm') ? await warmScenarios(bus, store, reporter) : []
    const cold = PARTS.has('cold') ? [await coldScenario(bus, store, reporter)] : []
    const byName = new Map([...warm, ...cold].map((r) => [r.scenario, r]))
    for (const scenario of ['start-process', 'start-process-cold', 'start-thread', 'start-inline', 'update-to-hook', 'cancel-to-exit']) {
      const row = byName.get(scenario)
      if (row) results.push(row)
    }
    if (reporterErrors.length > 0) console.error(`bench worker: state writer errors: ${reporterErrors.slice(0, 3).map(describeError).join('; ')}`)
  } finally {
    await publisher.close()
    await bus.close()
    for await (const keys of connection.scan(`${connection.keyPrefix}*`)) await connection.send(['UNLINK', ...keys], { key: keys[0] }).catch(() => {})
    await connection.close()
  }
  try {
    if (PARTS.has('idle')) results.push(await idleScenario(store))
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

/** Called by bench/run.ts after the table: the informative rows, then each figure against its target. */
export function summarize(results: BenchResult[]): void {
  const rows = results as WorkerBenchResult[]
  if (extraRows.length > 0) {
    console.log('\ninformative (not in the JSON): cancel-to-exit of the other isolation modes')
    console.table(extraRows.map((r) => ({ scenario: r.scenario, isolation: r.isolation, 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms, samples: r.samples })))
  }
  const find = (scenario: string): WorkerBenchResult | undefined => rows.find((r) => r.scenario === scenario && !r.errors?.length)
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'ok' : 'MISSED')
  console.log('\ntargets (p50; p99 alongside)')
  for (const scenario of ['start-process', 'start-process-cold', 'start-inline', 'update-to-hook'] as const) {
    const row = find(scenario)
    const target = TARGETS[scenario]
    console.log(`${scenario}: p50 ${row?.p50Ms ?? '?'} ms, p99 ${row?.p99Ms ?? '?'} ms (target p50 <= ${target} ms) ${verdict(row && row.p50Ms <= target)}`)
  }
  for (const scenario of ['start-thread', 'cancel-to-exit'] as const) {
    const row = find(scenario)
    console.log(`${scenario}: p50 ${row?.p50Ms ?? '?'} ms, p99 ${row?.p99Ms ?? '?'} ms (no target)`)
  }
  const idle = find('idle-1000-inline')
  const cpu = idle?.cpuPercent
  const trips = idle?.roundTripsPerTick
  console.log(`idle-1000-inline: ${cpu ?? '?'} % of one core (target <= ${TARGETS.idleCpuPercent} %) ${verdict(cpu === undefined ? undefined : cpu <= TARGETS.idleCpuPercent)}`)
  console.log(
    `idle-1000-inline: ${trips ?? '?'} state round trips per tick, ${idle?.multiExecPerTick ?? '?'} MULTI/EXEC per tick (target <= ${TARGETS.idleRoundTripsPerTick}) ${verdict(trips === undefined ? undefined : trips <= TARGETS.idleRoundTripsPerTick)}`,
  )
  if (idle) {
    console.log(
      `idle-1000-inline: Redis ${idle.redisCommandsPerSec} commands/s (state writer ${idle.stateRedisCommandsPerSec}, incl. the heartbeat script's GET/SET; bus ${idle.busRedisCommandsPerSec}); tick round trip p50 ${idle.p50Ms} ms over ${idle.ticks} ticks; rss ${idle.rssMb} MB`,
    )
    console.log(`  state commands per tick: ${JSON.stringify(idle.stateCommandsPerTick)}`)
    console.log(`  bus commands per second: ${JSON.stringify(idle.busCommandsPerSec)}`)
  }
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench worker: timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run \`npm run bench -- worker\` or eval "$(bash scripts/services.sh env)" first`)
  return value
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await run()
  report('worker', results)
  summarize(results)
}
