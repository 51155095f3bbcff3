// `npm run bench -- peer`: our node-mode Skald against the Python Skalds 0.3.8 (the system this project
// re-implements) on the same workload, each node alone on the machine in turn, both on the same Redis (REDIS_URL),
// MongoDB-wire server (MONGO_URL) and Kafka 3.9 broker (KAFKA39_BROKERS, else a throwaway 3.9.1 broker: the Python
// Kafka client cannot talk to Kafka 4). docs/benchmarks.md ("Peer suite") says what each scenario measures and how;
// the fixtures are bench/fixtures/peer-*.ts and bench/fixtures/python/. The Python interpreter comes from
// SKALDS_PYTHON (`npm run services` provisions it and exports the name). Or alone: `node bench/peer.ts` after
// `eval "$(bash scripts/services.sh env)"`.
//
// Rows (subjects `skalds` and `python-skalds`): lib.ts' shape plus `runs`, `method`, `isolation`; latency rows have
// `minMs`/`maxMs` (and opsPerSec = 1000 / the mean latency); the idle row has `cpuPercent` and `rssMb` (its
// opsPerSec/p50Ms/p99Ms are 0: no latency there) and `pssMb`, `processes`. Our rows carry `vsPython`: Python's figure
// / ours (p50 for latencies, CPU for idle; > 1 = ours ahead), with `vsPythonP99` / `vsPythonRss`, and `ahead`.
// Informative rows (our inline isolation) go to the JSON's `informative`, apart from `results`.
//
// Sizes (env): BENCH_PEER_SAMPLES (per latency scenario, default 30), BENCH_PEER_IDLE_TASKS (default 100),
// BENCH_PEER_IDLE_SECONDS (sampling window, default 20), BENCH_PEER_INLINE=0 (skip the informative inline rows),
// BENCH_PEER_ONLY=skalds|python-skalds (one subject; its rows are merged into the committed JSON).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type BenchResult, describeError, hostFacts, noteError, positiveInteger, report } from './lib.ts'
import { kafka39, pythonPeer, PeerWorld, type PeerNode } from './fixtures/peer-env.ts'
import { idleTasks, latencies, latencyRow, type PeerOptions, type PeerRow } from './fixtures/peer-scenarios.ts'

/** The scenarios of this suite, in the order of the results. */
export const scenarios = ['assign-to-main', 'update-to-hook', 'cancel-to-exit', 'idle-100-tasks'] as const

const SUBJECTS = ['skalds', 'python-skalds'] as const
type Subject = (typeof SUBJECTS)[number]

const RESULTS_FILE = new URL('./results/peer.json', import.meta.url)
const direct = process.argv[1] === fileURLToPath(import.meta.url)

const o: PeerOptions = {
  samples: positiveInteger('BENCH_PEER_SAMPLES', 30),
  warmup: 3,
  settleMs: 1000,
  pauseMs: 300,
  idleTasks: positiveInteger('BENCH_PEER_IDLE_TASKS', 100),
  idleSeconds: positiveInteger('BENCH_PEER_IDLE_SECONDS', 20),
  timeoutMs: 20_000,
}
const INLINE = process.env.BENCH_PEER_INLINE !== '0'
const ONLY = process.env.BENCH_PEER_ONLY as Subject | undefined
if (ONLY !== undefined && !SUBJECTS.includes(ONLY)) throw new Error(`BENCH_PEER_ONLY: ${JSON.stringify(ONLY)} is not one of ${SUBJECTS.join(', ')}`)

const METHOD = {
  assign:
    'task stored Assigning with executor = the node (create + claim, untimed), then publish task.assign (camelCase TaskEvent, key = id) → the worker main hook entered, by its own CLOCK_MONOTONIC timestamp appended to a signal file; one task at a time, each cancelled after 1 s',
  update:
    'attachments stored (untimed), then publish task.update.attachment → the running worker update hook entered (its own timestamp, signal file); one at a time, 300 ms apart, on one task',
  cancel:
    "task stored Cancelled (untimed, as a controller's cancel), then publish task.cancel → task:<id>:heartbeat reads -2 in Redis (the run's terminal write, which both nodes make once the worker ended), polled every 1 ms; one at a time, 1 s after the task's main hook",
  idle: (n: number, s: number) =>
    `${n} running tasks (main: log + sleep 1 s in a loop) on one node, all mains entered, 5 s settle, then the node's whole process tree (node + worker children + helpers) sampled from /proc every 1 s for ${s} s: cpuPercent = utime+stime delta / wall time (100 = one core); rssMb = mean of the summed VmRSS (shared pages counted in each process); pssMb = the same with Pss (shared pages split)`,
}

let machineAtStart: Record<string, unknown> = {}
const informative: PeerRow[] = []

export async function run(): Promise<PeerRow[]> {
  const { python, version } = pythonPeer()
  const kafka = await kafka39()
  machineAtStart = machine({ pythonSkalds: version, kafka: kafka.origin })
  const rows: PeerRow[] = []
  try {
    const world = await PeerWorld.open(python, kafka)
    try {
      // Python first, then ours: each alone (the other's node and workers are gone before the next starts).
      for (const subject of ['python-skalds', 'skalds'] as const) {
        if (ONLY && ONLY !== subject) continue
        rows.push(...(await measureSubject(world, subject, 'PeerWorker')))
        if (subject === 'skalds' && INLINE) informative.push(...(await measureSubject(world, subject, 'PeerWorkerInline')))
      }
    } finally {
      await world.close()
    }
  } finally {
    await kafka.close()
  }
  const order = (r: PeerRow): number => scenarios.indexOf(r.scenario as (typeof scenarios)[number]) * 2 + (r.subject === 'skalds' ? 0 : 1)
  rows.sort((a, b) => order(a) - order(b))
  compare(rows)
  return rows
}

async function measureSubject(world: PeerWorld, subject: Subject, className: string): Promise<PeerRow[]> {
  const isolation = subject === 'python-skalds' ? 'process (multiprocessing fork)' : className === 'PeerWorkerInline' ? 'inline' : 'process'
  const spawn = (id: string): Promise<PeerNode> => (subject === 'skalds' ? world.spawnOurs(id) : world.spawnPython(id))
  const tag = `${subject === 'skalds' ? 'ts' : 'py'}-${isolation === 'inline' ? 'inline-' : ''}${process.pid}`
  const rows: PeerRow[] = []
  progress(`${subject} (${isolation}): latencies`)
  let node = await spawn(`peer-${tag}-lat`)
  try {
    const r = await latencies(world, node, className, o)
    rows.push(
      latencyRow('assign-to-main', subject, r.assign, { isolation, method: METHOD.assign }, r.assignErrors),
      latencyRow('update-to-hook', subject, r.update, { isolation, method: METHOD.update }, r.updateErrors),
      latencyRow('cancel-to-exit', subject, r.cancel, { isolation, method: METHOD.cancel, releaseHookP50Ms: p50(r.release) }, r.cancelErrors),
    )
  } catch (error) {
    noteError(`${subject} latencies`, error)
    for (const s of ['assign-to-main', 'update-to-hook', 'cancel-to-exit']) rows.push({ scenario: s, subject, opsPerSec: 0, p50Ms: 0, p99Ms: 0, runs: 0, isolation, method: '', errors: [describeError(error)] })
  } finally {
    await world.stopNode(node)
  }
  progress(`${subject} (${isolation}): ${o.idleTasks} idle tasks`)
  node = await spawn(`peer-${tag}-idle`)
  try {
    const u = await idleTasks(world, node, className, o)
    rows.push({ scenario: 'idle-100-tasks', subject, opsPerSec: 0, p50Ms: 0, p99Ms: 0, runs: 1, isolation, method: METHOD.idle(o.idleTasks, o.idleSeconds), tasks: o.idleTasks, ...u })
  } catch (error) {
    noteError(`${subject} idle`, error)
    rows.push({ scenario: 'idle-100-tasks', subject, opsPerSec: 0, p50Ms: 0, p99Ms: 0, runs: 0, isolation, method: '', errors: [describeError(error)] })
  } finally {
    await world.stopNode(node, 60_000)
  }
  return rows
}

/** vsPython on ours: Python's figure / ours (> 1 = ours ahead), and `ahead` when every compared figure is. */
function compare(rows: PeerRow[]): void {
  for (const ours of [...rows, ...informative]) {
    if (ours.subject !== 'skalds') continue
    const py = rows.find((r) => r.subject === 'python-skalds' && r.scenario === ours.scenario)
    if (!py || py.runs === 0 || ours.runs === 0) continue
    const ratio = (a: number, b: number): number => (b > 0 ? Number((a / b).toPrecision(3)) : Infinity)
    if (ours.scenario === 'idle-100-tasks') {
      ours.vsPython = ratio(py.cpuPercent ?? 0, ours.cpuPercent ?? 0)
      ours.vsPythonRss = ratio(py.rssMb ?? 0, ours.rssMb ?? 0)
      ours.ahead = ours.vsPython > 1 && ours.vsPythonRss > 1
    } else {
      ours.vsPython = ratio(py.p50Ms, ours.p50Ms)
      ours.vsPythonP99 = ratio(py.p99Ms, ours.p99Ms)
      ours.ahead = ours.vsPython > 1 && ours.vsPythonP99 > 1
    }
  }
}

export function summarize(results: BenchResult[]): void {
  const rows = results as PeerRow[]
  if (informative.length > 0) {
    console.log('\ninformative (in the JSON under `informative`): our inline isolation')
    console.table(informative.map(view))
  }
  console.log('\nside by side')
  console.table(rows.map(view))
  const m = { ...machineAtStart, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) }
  const json = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>
  let out: Record<string, unknown> = { suite: 'peer', machine: m, results: rows, ...(json.errors ? { errors: json.errors } : {}), informative }
  if (ONLY && existsSync(RESULTS_FILE) && committed) {
    // One subject re-run: its rows replace that subject's; the ratios are recomputed against the other's.
    const kept = ((committed.results as PeerRow[] | undefined) ?? []).filter((r) => r.subject !== ONLY)
    const merged = [...kept.map((r) => ({ ...r })), ...rows]
    for (const r of merged) delete (r as Record<string, unknown>).vsPython
    compare(merged)
    out = { ...committed, results: merged, informative: ONLY === 'skalds' ? informative : committed.informative, partialRuns: [...((committed.partialRuns as unknown[]) ?? []), { subject: ONLY, machine: m }] }
  }
  writeFileSync(RESULTS_FILE, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`\nmachine: ${JSON.stringify(m)}`)
}

function view(r: PeerRow): Record<string, unknown> {
  return {
    scenario: r.scenario,
    subject: r.subject,
    isolation: r.isolation,
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    cpu: r.cpuPercent,
    'rss MB': r.rssMb,
    'pss MB': r.pssMb,
    runs: r.runs,
    vsPython: r.vsPython,
    ahead: r.ahead,
    errors: r.errors?.length,
  }
}

let committed: Record<string, unknown> | undefined
try {
  committed = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>
} catch {
  committed = undefined
}

function machine(extra: Record<string, unknown>): Record<string, unknown> {
  return { ...hostFacts(), ...extra }
}

function p50(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.floor(s.length / 2)]! * 1000) / 1000
}

function progress(what: string): void {
  console.error(`bench peer: ${what} (load ${loadavg()[0]!.toFixed(2)})`)
}

if (direct) {
  const results = await run()
  report('peer', results)
  summarize(results)
}
