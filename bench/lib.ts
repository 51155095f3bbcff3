// Shared measurement for every benchmark suite: the same method for ours and the peers, in one process.
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'

export interface BenchResult {
  scenario: string
  subject: string
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  factoryCalls?: number
  /** What went wrong while measuring this row (a row no round of which succeeded has zero figures). */
  errors?: string[]
}

/** Errors not tied to one row (a client's connection errors, a subject left out), until report() writes them. */
const suiteErrors: string[] = []

/** The text of an error for the JSON: its class and message. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** Records an error of the running suite that belongs to no row: printed now, written to the JSON by report(). */
export function noteError(where: string, error: unknown): void {
  const text = `${where}: ${describeError(error)}`
  console.error(`bench: ${text}`)
  suiteErrors.push(text)
}

export interface MeasureOptions {
  /** operations in the timed run */
  ops: number
  /** operations in flight at once (1 = sequential) */
  concurrency?: number
  /** untimed operations first, to warm JIT and connections */
  warmup?: number
}

/**
 * Runs `op` `ops` times with `concurrency` in flight; returns throughput and per-operation latency percentiles.
 * `op` receives the operation index so callers can vary keys.
 */
export async function measure(
  scenario: string,
  subject: string,
  op: (i: number) => unknown,
  options: MeasureOptions,
): Promise<BenchResult> {
  const concurrency = options.concurrency ?? 1
  const warmup = options.warmup ?? Math.min(1000, Math.ceil(options.ops / 10))
  for (let i = 0; i < warmup; i++) await op(i)
  const latencies = new Float64Array(options.ops)
  let next = 0
  const start = performance.now()
  const lane = async (): Promise<void> => {
    while (next < options.ops) {
      const i = next++
      const t0 = performance.now()
      await op(i)
      latencies[i] = performance.now() - t0
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  const elapsedMs = performance.now() - start
  latencies.sort()
  return {
    scenario,
    subject,
    opsPerSec: Math.round((options.ops / elapsedMs) * 1000),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
  }
}

/**
 * For operations too fast to time one by one (in-process hits): times batches of `batch` calls and derives
 * per-operation latency from each batch, so timer overhead does not dominate.
 */
export function measureSync(scenario: string, subject: string, op: (i: number) => unknown, options: { ops: number; batch?: number }): BenchResult {
  const batch = options.batch ?? 1000
  const batches = Math.max(1, Math.floor(options.ops / batch))
  for (let i = 0; i < batch * 10; i++) op(i)
  const perOp = new Float64Array(batches)
  const start = performance.now()
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now()
    for (let i = 0; i < batch; i++) op(b * batch + i)
    perOp[b] = (performance.now() - t0) / batch
  }
  const elapsedMs = performance.now() - start
  perOp.sort()
  return {
    scenario,
    subject,
    opsPerSec: Math.round(((batches * batch) / elapsedMs) * 1000),
    p50Ms: round(percentile(perOp, 0.5), 6),
    p99Ms: round(percentile(perOp, 0.99), 6),
  }
}

/** The q-quantile (0..1) of ascending samples, by nearest rank; 0 when there are none. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/**
 * Writes `bench/results/<suite>.json` and prints the table. Errors noted since the previous report (noteError) go
 * into the JSON as `errors`; rows carry their own.
 */
export function report(suite: string, results: BenchResult[]): void {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const errors = suiteErrors.splice(0)
  writeFileSync(new URL(`${suite}.json`, dir), `${JSON.stringify({ suite, results, ...(errors.length > 0 ? { errors } : {}) }, null, 2)}\n`)
  console.log(`\n${suite}`)
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      subject: r.subject,
      'ops/s': r.opsPerSec,
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      ...(r.factoryCalls === undefined ? {} : { 'factory calls': r.factoryCalls }),
      ...(r.errors === undefined ? {} : { errors: r.errors.length }),
    })),
  )
  for (const r of results) for (const error of r.errors ?? []) console.error(`${r.scenario} / ${r.subject}: ${error}`)
  for (const error of errors) console.error(`${suite}: ${error}`)
}

/** The ratio ours / peer for one scenario, for the summary lines. */
export function ratio(results: BenchResult[], scenario: string, ours: string, peer: string): number | undefined {
  const a = results.find((r) => r.scenario === scenario && r.subject === ours)
  const b = results.find((r) => r.scenario === scenario && r.subject === peer)
  if (!a || !b || b.opsPerSec === 0) return undefined
  return Math.round((a.opsPerSec / b.opsPerSec) * 100) / 100
}

/** A suite's size knob: a positive integer from the environment variable `name`, or `fallback` when it is unset. */
export function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: must be a positive integer, got ${JSON.stringify(text)}`)
  return value
}

/** The box a suite ran on, written beside its figures: when, cores, CPU, memory, the load at the start, Node. */
export interface HostFacts {
  date: string
  cpus: number
  cpuModel: string
  memoryGb: number
  /** 1, 5 and 15 minute load averages when the suite started (other engineers' work shares the machine) */
  loadAverageAtStart: number[]
  node: string
}

export function hostFacts(): HostFacts {
  return {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
  }
}
