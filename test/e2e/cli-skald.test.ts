// `skalds run`, `skalds edge` and `skalds doctor` on the real engines: a YAML task run to its end in one process
// (exit code from the task), an edge Skald that runs its file's tasks and drains on Ctrl-C, and the doctor's report
// on the test servers (Redis 8 with native hash-field TTL, Redis 7 through the emulation, Kafka, FerretDB).
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CLI_WORKERS, type CliResult, runCli, startCli } from '../helpers/cli.ts'
import { kafkaBrokers, mongoUrl, redis8Url, redisLegacyUrl, uniquePrefix } from '../helpers/servers.ts'
import { killAll } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const children: ChildProcess[] = []
let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-cli-skald-'))
})
after(() => {
  killAll(children)
  rmSync(dir, { recursive: true, force: true })
})

function exits(result: CliResult, code: number): void {
  assert.equal(result.code, code, `exit ${result.code}, expected ${code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
}

function yaml(name: string, body: string): string {
  const file = join(dir, name)
  writeFileSync(file, `TaskWorkers:\n${body}`)
  return file
}

void describe('skalds run (single_process)', () => {
  void it('runs the task of the YAML file to its end on the embedded engines: exit 0', async () => {
    const file = yaml('ok.yml', '  job-ok:\n    className: CliTicker\n    attachments:\n      ticks: 3\n      everyMs: 10\n')
    const result = await runCli(['run', '--yaml', file, '--worker', CLI_WORKERS, '--id', 'sp-1'], { env: { SKALDS_SQLITE_PATH: join(dir, 'run.db') }, cwd: dir })
    exits(result, 0)
    assert.match(result.stdout, /^\[job-ok\] started \(CliTicker, attempt 1\)\n\[job-ok\] tick 1\n\[job-ok\] tick 2\n\[job-ok\] tick 3\n[\s\S]*\[job-ok\] ended: Finished$/m)
    assert.match(result.stderr, /skalds run \[SP\]sp-1 running the task of .*ok\.yml/)
  })

  void it('a task that fails: exit 1 and its error', async () => {
    const file = yaml('fails.yml', '  job-fails:\n    className: CliFailing\n')
    const result = await runCli(['run', '--yaml', file, '--worker', `${CLI_WORKERS}#CliFailing`], { env: { SKALDS_SQLITE_PATH: join(dir, 'run.db') }, cwd: dir })
    exits(result, 1)
    assert.match(result.stdout, /\[job-fails\] failed: cli fixture fails on purpose/)
  })

  void it('Ctrl-C stops the task after --drain-timeout: exit 130', async () => {
    const file = yaml('long.yml', '  job-long:\n    className: CliTicker\n    attachments:\n      ticks: 100000\n      everyMs: 50\n')
    const running = await startCli(['run', '--yaml', file, '--worker', CLI_WORKERS, '--drain-timeout', '300'], /\[job-long\] tick 2/, { env: { SKALDS_SQLITE_PATH: join(dir, 'run.db') }, cwd: dir }, children)
    running.child.kill('SIGINT')
    assert.equal((await running.exited).code, 130, running.output())
  })
})

void describe('skalds edge', () => {
  void it('runs every task of its file on Redis, and drains on SIGINT: exit 0', async () => {
    const file = yaml('edge.yml', '  edge-a:\n    className: CliTicker\n    attachments: { ticks: 2, everyMs: 10, label: a }\n  edge-b:\n    className: CliTicker\n    attachments: { ticks: 2, everyMs: 10, label: b }\n')
    const env = { REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: uniquePrefix('cli-edge'), SKALDS_SQLITE_PATH: join(dir, 'edge.db') }
    const edge = await startCli(['edge', '--yaml', file, '--worker', CLI_WORKERS, '--id', 'edge-1'], /skalds edge edge-1 running the tasks of/, { env, cwd: dir }, children)
    await waitFor(() => /\[edge-a\] ended: Finished/.test(edge.output()) && /\[edge-b\] ended: Finished/.test(edge.output()), 'both tasks to finish', 30_000)
    assert.match(edge.output(), /\[edge-a\] a 2/)
    edge.child.kill('SIGINT')
    assert.equal((await edge.exited).code, 0, edge.output())
  })
})

interface Report {
  ok: boolean
  checks: Array<{ name: string; status: string; reachable: boolean; version?: string; features?: Record<string, unknown>; hint?: string }>
}

void describe('skalds doctor on the test servers', () => {
  void it('Redis 8, Kafka and FerretDB: versions and features, exit 0', async () => {
    const result = await runCli(['doctor', '--json'], { env: { REDIS_URL: redis8Url(), KAFKA_BROKERS: kafkaBrokers(), MONGO_URL: mongoUrl() }, cwd: dir })
    exits(result, 0)
    const report = JSON.parse(result.stdout) as Report
    const [redis, bus, store] = report.checks
    assert.equal(redis?.status, 'ok')
    assert.match(redis?.version ?? '', /^Redis [89]\./)
    assert.equal(redis?.features?.hashFieldTtl, true)
    assert.equal(typeof redis?.features?.redisBloom, 'boolean')
    assert.equal(bus?.status, 'ok')
    assert.match(bus?.version ?? '', /^Kafka 4\.x/)
    assert.equal(store?.status, 'ok')
    assert.match(store?.version ?? '', /^(FerretDB|MongoDB) /)
    const human = await runCli(['doctor'], { env: { REDIS_URL: redis8Url(), KAFKA_BROKERS: kafkaBrokers(), MONGO_URL: mongoUrl() }, cwd: dir })
    exits(human, 0)
    assert.match(human.stdout, /^ok {4}redis/m)
    assert.match(human.stdout, /native hash-field TTL \(HEXPIRE\)/)
    assert.match(human.stderr, /all checks passed/)
  })

  void it('Redis 7 without native hash-field TTL: a warning with the fix, still exit 0', async () => {
    const result = await runCli(['doctor', '--json'], { env: { REDIS_URL: redisLegacyUrl() }, cwd: dir })
    exits(result, 0)
    const redis = (JSON.parse(result.stdout) as Report).checks[0]!
    assert.equal(redis.status, 'warn')
    assert.equal(redis.features?.hashFieldTtl, false)
    assert.match(redis.hint ?? '', /Redis 7\.4\+ .* native hash-field TTL \(HEXPIRE\)/)
  })
})
