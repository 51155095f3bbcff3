// `npm run bench -- controller`: the System Controller end to end — its HTTP API, dispatcher and monitors with real
// Skald node processes on Redis Streams (bus), Redis (state) and SQLite (store), against BullMQ where there is a
// peer. docs/benchmarks.md ("Controller suite") says what each scenario measures and how; the fixtures are
// bench/fixtures/controller-*.ts. Or alone: `node bench/controller.ts` after `eval "$(bash scripts/services.sh env)"`.
//
// Rows: lib.ts' shape (scenario, subject, opsPerSec, p50Ms, p99Ms, errors?) plus each scenario's own fields
// (controller-rows.ts: samples, isolation, method, target, targetMet, perOperation, …). Latency rows' opsPerSec is
// 1000 / the mean latency (the operation done one at a time). The JSON also gets `machine` (CPUs, load, versions).
//
// Sizes (env): BENCH_CONTROLLER_SAMPLES (latency samples per scenario, default 100), BENCH_CONTROLLER_TASKS
// (dispatch-throughput burst, default 1000), BENCH_CONTROLLER_JOBS (short-task-throughput, default 2000; ours is
// given BENCH_CONTROLLER_SHORT_LIMIT_S, default 180),
// BENCH_CONTROLLER_FAILOVER_RUNS (default 3), BENCH_CONTROLLER_READ_TASKS (tasks in the store of the read scenarios,
// default 100000), BENCH_CONTROLLER_READ_SECONDS (autocannon duration per route, default 10).
// BENCH_CONTROLLER_ONLY=latency,dispatch,short,reads,sse,failover runs only those groups (do not commit such a run).
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { type BenchResult, report } from './lib.ts'
import { failover } from './fixtures/controller-failover.ts'
import { latencyScenarios } from './fixtures/controller-latency.ts'
import { machineFacts } from './fixtures/controller-machine.ts'
import { readScenario } from './fixtures/controller-reads.ts'
import { pendingRow } from './fixtures/controller-rows.ts'
import { dispatchThroughput, shortTasksBullmq, shortTasksOurs } from './fixtures/controller-throughput.ts'
import type { ControllerRow } from './fixtures/controller-rows.ts'

const GROUPS = ['latency', 'dispatch', 'short', 'reads', 'sse', 'failover'] as const
const ONLY = new Set((process.env.BENCH_CONTROLLER_ONLY ?? GROUPS.join(',')).split(',').map((g) => g.trim()))
for (const g of ONLY) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`BENCH_CONTROLLER_ONLY: unknown group ${JSON.stringify(g)} (${GROUPS.join(', ')})`)

const SAMPLES = positiveInteger('BENCH_CONTROLLER_SAMPLES', 100)
const DISPATCH_TASKS = positiveInteger('BENCH_CONTROLLER_TASKS', 1000)
const JOBS = positiveInteger('BENCH_CONTROLLER_JOBS', 2000)
const SHORT_LIMIT_S = positiveInteger('BENCH_CONTROLLER_SHORT_LIMIT_S', 180)
const FAILOVER_RUNS = positiveInteger('BENCH_CONTROLLER_FAILOVER_RUNS', 3)
const READ_TASKS = positiveInteger('BENCH_CONTROLLER_READ_TASKS', 100_000)
const READ_SECONDS = positiveInteger('BENCH_CONTROLLER_READ_SECONDS', 10)

/** Rows printed after the table, written to the JSON apart from `results` (informative variants). */
const extraRows: ControllerRow[] = []
let machineAtStart: Awaited<ReturnType<typeof machineFacts>> | undefined

const started = performance.now()
const progress = (what: string): void => console.error(`bench controller: ${what} done at ${((performance.now() - started) / 1000).toFixed(0)} s (load ${loadavg()[0]!.toFixed(2)})`)

export async function run(): Promise<ControllerRow[]> {
  machineAtStart = await machineFacts()
  const results: ControllerRow[] = []
  if (ONLY.has('latency')) {
    const { rows, extra } = await latencyScenarios({ samples: SAMPLES, warmup: 5, settleMs: 300 })
    results.push(...rows)
    extraRows.push(...extra)
    progress('latency')
  }
  if (ONLY.has('dispatch')) {
    results.push(await dispatchThroughput({ tasks: DISPATCH_TASKS, nodes: 2 }))
    progress('dispatch-throughput')
  }
  if (ONLY.has('short')) {
    // A small warm-up (connections, JIT), the same for both: ours takes 8 tasks per node-monitor cycle (see the docs).
    const o = { jobs: JOBS, warmup: 16, inFlight: 16, limitMs: SHORT_LIMIT_S * 1000 }
    // BullMQ first, then ours: each alone on the machine (the other's processes are gone).
    const bullmq = await shortTasksBullmq(o)
    const ours = await shortTasksOurs(o)
    const vsBullmq = bullmq.opsPerSec > 0 ? Number((ours.opsPerSec / bullmq.opsPerSec).toPrecision(2)) : undefined
    Object.assign(ours, { target: '>= 1x BullMQ jobs/s', ...(vsBullmq === undefined ? {} : { vsBullmq, targetMet: vsBullmq >= 1 }) })
    results.push(bullmq, ours)
    // Informative: where the time goes. A node with room for every task (no capacity gate: the dispatcher's own rate
    // and the node's), and the default node of 8 with the controller's view of its load refreshed every 100 ms.
    extraRows.push(await shortTasksOurs({ ...o, nodeMaxTasks: 100_000 }))
    extraRows.push(await shortTasksOurs({ ...o, fastView: true }))
    progress('short-task-throughput')
  }
  if (ONLY.has('reads')) {
    const o = { tasks: READ_TASKS, seconds: READ_SECONDS, connections: 10 }
    results.push(...(await readScenario('api-read-uncached', o)))
    // SLOT api-read-cached: waits for the task caches (src/controller/task-cache/, SystemController `reads`) on main.
    // Then: the same routes with `reads` from the task cache, on the same store (readScenario's controllerOptions).
    results.push(pendingRow('api-read-cached', 'skalds', 'waits for the task caches (src/controller/task-cache/) on main'))
    progress('api reads')
  }
  if (ONLY.has('sse')) {
    // SLOT sse-fanout-1000: waits for the live events (src/controller/live/, /api/events/*) on main. Then: 1,000
    // EventSource clients on /api/events/tasks (eventsource, in child processes), a task change every second, the time
    // from the change to the last client receiving it (p50/p99 over the events), and GET latency meanwhile.
    results.push(pendingRow('sse-fanout-1000', 'skalds', 'waits for the SSE live events (src/controller/live/, /api/events/*) on main'))
  }
  if (ONLY.has('failover')) results.push(await failover(FAILOVER_RUNS))
  return results
}

/** Called by bench/run.ts after the table: the informative rows, the targets, and the machine facts into the JSON. */
export function summarize(results: BenchResult[]): void {
  const rows = results as ControllerRow[]
  if (extraRows.length > 0) {
    console.log('\ninformative (in the JSON under `informative`, apart from `results`)')
    console.table(extraRows.map((r) => ({ scenario: r.scenario, subject: r.subject, isolation: r.isolation, 'ops/s': r.opsPerSec, 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms, samples: r.samples, seconds: r.seconds, errors: r.errors?.join('; ') })))
  }
  console.log('\ntargets')
  for (const r of rows) {
    if (r.target === undefined) continue
    const verdict = r.targetMet === undefined ? 'not measured' : r.targetMet ? 'ok' : 'MISSED'
    const vs = typeof r.vsBullmq === 'number' ? `, ${r.vsBullmq}x BullMQ` : ''
    console.log(`${r.scenario} / ${r.subject}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.opsPerSec} ops/s${vs} (target ${r.target}) ${verdict}`)
  }
  const machine = { ...machineAtStart, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) }
  const file = new URL('./results/controller.json', import.meta.url)
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  // `informative`: the variants printed after the table (kept apart from `results`, whose shape is every suite's).
  const out = { suite: json.suite, machine, results: json.results, ...(json.errors ? { errors: json.errors } : {}), informative: extraRows }
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`\nmachine: ${JSON.stringify(machine)}`)
}

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: must be a positive integer, got ${JSON.stringify(text)}`)
  return value
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await run()
  report('controller', results)
  summarize(results)
}
