// `npm run bench -- <suite...>`: runs benchmark suites (all when none is named) and writes bench/results/<suite>.json.
// A suite is `bench/<name>.ts` exporting `run(): Promise<BenchResult[]>`, and optionally `summarize(results)`, called
// after the table is printed (e.g. to print the ratios against the suite's targets), and `scenarios` (the names of its
// rows' scenarios), listed by `npm run bench -- --list`. Suites that need servers read their addresses from the env
// that `npm run services -- env` prints (`npm run bench` brings the servers up first).
//
// Suites (bench/<name>.ts): bus, cache, controller, coordination, peer (ours against the Python Skalds 0.3.8:
// assign-to-main, update-to-hook, cancel-to-exit, idle-100-tasks; needs SKALDS_PYTHON and a Kafka 3.9 broker, see
// docs/benchmarks.md), store, worker.
import { existsSync, readdirSync } from 'node:fs'
import { type BenchResult, report } from './lib.ts'

const here = new URL('./', import.meta.url)
const known = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'lib.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort()

type Suite = { run?: () => Promise<BenchResult[]>; summarize?: (results: BenchResult[]) => void; scenarios?: readonly string[] }

if (process.argv.includes('--list')) {
  for (const name of known) {
    const suite = (await import(new URL(`${name}.ts`, here).href)) as Suite
    console.log(`${name}${suite.scenarios ? `: ${suite.scenarios.join(', ')}` : ''}`)
  }
  process.exit(0)
}

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const names = requested.length > 0 ? requested : known
for (const name of names) {
  if (!existsSync(new URL(`${name}.ts`, here))) {
    console.error(`bench: unknown suite ${JSON.stringify(name)}; known: ${known.join(', ')}`)
    process.exit(2)
  }
}
for (const name of names) {
  const suite = (await import(new URL(`${name}.ts`, here).href)) as Suite
  if (typeof suite.run !== 'function') throw new Error(`bench/${name}.ts does not export run()`)
  const results = await suite.run()
  report(name, results)
  suite.summarize?.(results)
}
