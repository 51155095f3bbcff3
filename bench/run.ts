// `npm run bench -- <suite...>`: runs benchmark suites (all when none is named) and writes bench/results/<suite>.json.
// A suite is `bench/<name>.ts` exporting `run(): Promise<BenchResult[]>`. Suites that need servers read their
// addresses from the env that `npm run services -- env` prints (`npm run bench` brings the servers up first).
import { existsSync, readdirSync } from 'node:fs'
import { type BenchResult, report } from './lib.ts'

const here = new URL('./', import.meta.url)
const known = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'lib.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort()

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const names = requested.length > 0 ? requested : known
for (const name of names) {
  if (!existsSync(new URL(`${name}.ts`, here))) {
    console.error(`bench: unknown suite ${JSON.stringify(name)}; known: ${known.join(', ')}`)
    process.exit(2)
  }
}
for (const name of names) {
  const suite = (await import(new URL(`${name}.ts`, here).href)) as { run?: () => Promise<BenchResult[]> }
  if (typeof suite.run !== 'function') throw new Error(`bench/${name}.ts does not export run()`)
  report(name, await suite.run())
}
