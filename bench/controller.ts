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
// default 100000), BENCH_CONTROLLER_READ_SECONDS (autocannon duration per route, default 10),
// BENCH_CONTROLLER_SSE_CLIENTS (default 1000), BENCH_CONTROLLER_SSE_EVENTS (timed changes, default 20),
// BENCH_CONTROLLER_SSE_INTERVAL_MS (between changes, default 1000).
//
// Selecting scenarios: BENCH_CONTROLLER_ONLY (or, run directly, `node bench/controller.ts <name...>`) lists scenario
// names or groups, comma or space separated: `BENCH_CONTROLLER_ONLY=api-read-uncached,api-read-cached,sse-fanout-1000
// npm run bench -- controller`. Groups: latency (create-to-main-process, create-to-main-inline, cancel-to-exit,
// update-to-hook: run together), dispatch, short, reads, sse, failover. A partial run's rows are merged into the
// committed bench/results/controller.json: they replace the rows of the scenarios it ran, the others stay as they
// were, and `partialRuns` records which scenarios were re-run when and on what load (`machine` stays the full run's).
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { type BenchResult, positiveInteger, report } from './lib.ts'
import { BenchEnv } from './fixtures/controller-env.ts'
import { failover } from './fixtures/controller-failover.ts'
import { latencyScenarios } from './fixtures/controller-latency.ts'
import { machineFacts } from './fixtures/controller-machine.ts'
import { FLOOR_ROUTES, readScenario } from './fixtures/controller-reads.ts'
import { sseFanout } from './fixtures/controller-sse.ts'
import { dispatchThroughput, shortTasksBullmq, shortTasksOurs, shortTasksStoreOnly } from './fixtures/controller-throughput.ts'
import type { ControllerRow } from './fixtures/controller-rows.ts'

/** Every scenario by group, in the order they run. */
const SCENARIOS = {
  latency: ['create-to-main-process', 'create-to-main-inline', 'cancel-to-exit', 'update-to-hook'],
  dispatch: ['dispatch-throughput'],
  short: ['short-task-throughput'],
  reads: ['api-read-uncached', 'api-read-cached'],
  sse: ['sse-fanout-1000'],
  failover: ['failover'],
} as const
type Group = keyof typeof SCENARIOS
const GROUPS = Object.keys(SCENARIOS) as Group[]
const ALL = GROUPS.flatMap((g) => SCENARIOS[g] as readonly string[])

const direct = process.argv[1] === fileURLToPath(import.meta.url)
const selection = (process.env.BENCH_CONTROLLER_ONLY ?? (direct ? process.argv.slice(2).join(',') : '')).split(/[\s,]+/).filter(Boolean)
/** The scenarios this run measures (a group stands for all of its scenarios). */
const SELECTED = new Set<string>()
for (const name of selection.length > 0 ? selection : GROUPS) {
  if ((GROUPS as string[]).includes(name)) for (const s of SCENARIOS[name as Group]) SELECTED.add(s)
  else if (ALL.includes(name)) SELECTED.add(name)
  else throw new Error(`BENCH_CONTROLLER_ONLY: unknown scenario or group ${JSON.stringify(name)} (groups: ${GROUPS.join(', ')}; scenarios: ${ALL.join(', ')})`)
}
// The latency scenarios share their nodes and alternate their samples: any of them runs the four.
if (SCENARIOS.latency.some((s) => SELECTED.has(s))) for (const s of SCENARIOS.latency) SELECTED.add(s)
const PARTIAL = SELECTED.size < ALL.length
const wants = (group: Group): boolean => SCENARIOS[group].some((s) => SELECTED.has(s))

const SAMPLES = positiveInteger('BENCH_CONTROLLER_SAMPLES', 100)
const DISPATCH_TASKS = positiveInteger('BENCH_CONTROLLER_TASKS', 1000)
const JOBS = positiveInteger('BENCH_CONTROLLER_JOBS', 2000)
const SHORT_LIMIT_S = positiveInteger('BENCH_CONTROLLER_SHORT_LIMIT_S', 180)
const FAILOVER_RUNS = positiveInteger('BENCH_CONTROLLER_FAILOVER_RUNS', 3)
const READ_TASKS = positiveInteger('BENCH_CONTROLLER_READ_TASKS', 100_000)
const READ_SECONDS = positiveInteger('BENCH_CONTROLLER_READ_SECONDS', 10)
const SSE_CLIENTS = positiveInteger('BENCH_CONTROLLER_SSE_CLIENTS', 1000)
const SSE_EVENTS = positiveInteger('BENCH_CONTROLLER_SSE_EVENTS', 20)
const SSE_INTERVAL_MS = positiveInteger('BENCH_CONTROLLER_SSE_INTERVAL_MS', 1000)

const RESULTS_FILE = new URL('./results/controller.json', import.meta.url)

/** Rows printed after the table, written to the JSON apart from `results` (informative variants). */
const extraRows: ControllerRow[] = []
let machineAtStart: Awaited<ReturnType<typeof machineFacts>> | undefined
/** The committed JSON as it was before this run (report() rewrites the file before summarize() merges into it). */
let committed: Record<string, unknown> | undefined

const started = performance.now()
const progress = (what: string): void => console.error(`bench controller: ${what} done at ${((performance.now() - started) / 1000).toFixed(0)} s (load ${loadavg()[0]!.toFixed(2)})`)

export async function run(): Promise<ControllerRow[]> {
  machineAtStart = await machineFacts()
  committed = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>
  if (PARTIAL) console.error(`bench controller: a partial run of ${[...SELECTED].join(', ')}; its rows replace theirs in bench/results/controller.json`)
  const results: ControllerRow[] = []
  if (wants('latency')) {
    const { rows, extra } = await latencyScenarios({ samples: SAMPLES, warmup: 5, settleMs: 300 })
    results.push(...rows)
    extraRows.push(...extra)
    progress('latency')
  }
  if (wants('dispatch')) {
    results.push(await dispatchThroughput({ tasks: DISPATCH_TASKS, nodes: 2 }))
    progress('dispatch-throughput')
  }
  if (wants('short')) {
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
    // And the store's part alone, in one process: the ceiling four store writes a task put on this design.
    extraRows.push(await shortTasksStoreOnly(o))
    progress('short-task-throughput')
  }
  if (wants('reads')) {
    // Both on one store of READ_TASKS tasks: uncached (every read from the store), then with the task caches on.
    const o = { tasks: READ_TASKS, seconds: READ_SECONDS, connections: 10 }
    const env = await BenchEnv.open('reads')
    try {
      if (SELECTED.has('api-read-uncached')) results.push(...(await readScenario('api-read-uncached', o, { caches: false }, env)))
      if (SELECTED.has('api-read-cached')) results.push(...(await readScenario('api-read-cached', o, {}, env)))
      // Informative: the same method on a route that reads nothing, the ceiling the two above are seen against.
      extraRows.push(...(await readScenario('api-read-floor', o, { caches: false }, env, FLOOR_ROUTES)))
    } finally {
      await env.close()
    }
    progress('api reads')
  }
  if (wants('sse')) {
    results.push(await sseFanout({ clients: SSE_CLIENTS, events: SSE_EVENTS, baselineEvents: 5, intervalMs: SSE_INTERVAL_MS, probeEveryMs: 20 }))
    progress('sse fan-out')
  }
  if (SELECTED.has('failover')) results.push(await failover(FAILOVER_RUNS))
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
  const json = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>
  const errors = json.errors as string[] | undefined
  let out: Record<string, unknown>
  if (!PARTIAL || committed === undefined) {
    // `informative`: the variants printed after the table (kept apart from `results`, whose shape is every suite's).
    out = { suite: json.suite, machine, results: json.results, ...(errors ? { errors } : {}), informative: extraRows }
  } else {
    // A partial run: its rows take the place of the committed rows of the scenarios it ran; the rest stay.
    const ran = new Set([...SELECTED, ...rows.map((r) => r.scenario), ...extraRows.map((r) => r.scenario)])
    const merged: ControllerRow[] = []
    const placed = new Set<string>()
    for (const row of (committed.results as ControllerRow[] | undefined) ?? []) {
      if (!ran.has(row.scenario)) merged.push(row)
      else if (!placed.has(row.scenario)) {
        placed.add(row.scenario)
        merged.push(...rows.filter((r) => r.scenario === row.scenario))
      }
    }
    merged.push(...rows.filter((r) => !placed.has(r.scenario)))
    const informative = [...((committed.informative as ControllerRow[] | undefined) ?? []).filter((r) => !ran.has(r.scenario)), ...extraRows]
    const partialRuns = [...((committed.partialRuns as unknown[] | undefined) ?? []), { scenarios: [...SELECTED], machine, ...(errors ? { errors } : {}) }]
    out = { suite: committed.suite ?? json.suite, machine: committed.machine, results: merged, ...(committed.errors ? { errors: committed.errors } : {}), informative, partialRuns }
  }
  writeFileSync(RESULTS_FILE, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`\nmachine: ${JSON.stringify(machine)}`)
}

if (direct) {
  const results = await run()
  report('controller', results)
  summarize(results)
}
