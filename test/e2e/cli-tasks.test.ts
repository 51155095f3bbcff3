// `skalds task …`, `skalds cache …` and `skalds doctor --url` against a real deployment started with the CLI
// itself: `skalds controller` (with an API token) and `skalds node` running the CLI fixture workers, on the test
// Redis (Redis Streams bus, a unique key prefix) and one SQLite file. Tasks really run.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CLI_WORKERS, type CliResult, type LongRunning, runCli, startCli } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { killAll } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const TOKEN = 'cli-e2e-token-0123456789'
const children: ChildProcess[] = []
let dir: string
let url: string
let serverEnv: Record<string, string>
let clientEnv: Record<string, string>
let controller: LongRunning
let node: LongRunning

function exits(result: CliResult, code: number): void {
  assert.equal(result.code, code, `exit ${result.code}, expected ${code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
}

/** `skalds task <args>` with the controller's URL and token from the environment. */
const task = (args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> =>
  runCli(['task', ...args], { env: { ...clientEnv, ...env }, ...(stdin === undefined ? {} : { stdin }) })

async function statusOf(id: string): Promise<string> {
  const result = await task(['get', id, '--json'])
  exits(result, 0)
  return (JSON.parse(result.stdout) as { lifecycleStatus: string }).lifecycleStatus
}
const reaches = (id: string, status: string, timeoutMs = 30_000): Promise<unknown> =>
  waitFor(async () => (await statusOf(id)) === status, `task ${id} to be ${status}`, timeoutMs, 200)

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-cli-tasks-'))
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  serverEnv = {
    REDIS_URL: redis8Url(),
    REDIS_KEY_PREFIX: uniquePrefix('cli'),
    SKALDS_SQLITE_PATH: join(dir, 'tasks.db'),
    SKALDS_API_TOKEN: TOKEN,
    MONITOR_SKALD_INTERVAL: '0.2',
    DISPATCHER_INTERVAL: '0.2',
    REDIS_SYNC_PERIOD: '0.5',
  }
  clientEnv = { SKALDS_CONTROLLER_URL: url, SKALDS_API_TOKEN: TOKEN }
  controller = await startCli(['controller', '--port', String(port)], /skalds controller listening on /, { env: serverEnv, cwd: dir }, children)
  node = await startCli(['node', '--worker', CLI_WORKERS, '--id', 'cli-node-1'], /skalds node cli-node-1 running classes CliFailing, CliTicker/, { env: serverEnv, cwd: dir }, children)
  // the controller sees the node once its registration is read
  await waitFor(async () => (await fetch(`${url}/api/skalds/cli-node-1`)).status === 200, 'the controller to see the node', 20_000, 200)
})

after(async () => {
  killAll(children)
  rmSync(dir, { recursive: true, force: true })
  await Promise.resolve()
})

void describe('skalds task, cache and doctor against a controller and a node started by the CLI', () => {
  void it('doctor checks Redis, the Redis Streams bus, the SQLite store and the controller: exit 0', async () => {
    const result = await runCli(['doctor', '--json', '--url', url], { env: { ...serverEnv }, cwd: dir })
    exits(result, 0)
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; version?: string; message: string }> }
    assert.equal(report.ok, true)
    assert.deepEqual(report.checks.map((c) => c.name), ['redis', 'bus', 'store', 'controller'])
    const control = report.checks.find((c) => c.name === 'controller')!
    assert.equal(control.status, 'ok')
    assert.match(control.message, /healthy/)
  })

  void it('a mutating call without the token is refused: the API\'s message and code, exit 1', async () => {
    const result = await runCli(['task', 'create', '-c', 'CliTicker', '--url', url], { env: {} })
    exits(result, 1)
    assert.match(result.stderr, /^skalds: .+ \[E_UNAUTHORIZED 401\]$/m)
  })

  void it('create, get, list and logs of a task that runs to the end', async () => {
    const created = await task(['create', '-c', 'CliTicker', '--id', 'cli-t1', '--name', 'first', '-a', '{"ticks":3,"everyMs":30}', '--json'])
    exits(created, 0)
    assert.equal((JSON.parse(created.stdout) as { id: string }).id, 'cli-t1')
    await reaches('cli-t1', 'Finished')

    const got = await task(['get', 'cli-t1'])
    exits(got, 0)
    assert.match(got.stdout, /^status +Finished$/m)
    assert.match(got.stdout, /^executor +cli-node-1$/m)
    assert.match(got.stdout, /^attachments +\{"ticks":3,"everyMs":30,"label":"tick"\}|^attachments +\{"ticks":3,"everyMs":30\}/m)

    const list = await task(['list', '--status', 'Finished', '--class', 'CliTicker'])
    exits(list, 0)
    assert.match(list.stdout, /^ID +CLASS +STATUS +EXECUTOR/)
    assert.match(list.stdout, /^cli-t1 +CliTicker +Finished +cli-node-1 /m)
    assert.match(list.stderr, /1-1 of 1 \(page 1\)/)
    const json = await task(['list', '--json', '--page-size', '5', '--search', 'cli-t'])
    exits(json, 0)
    const page = JSON.parse(json.stdout) as { items: Array<{ id: string }>; total: number; pageSize: number }
    assert.equal(page.pageSize, 5)
    assert.ok(page.items.some((t) => t.id === 'cli-t1'))

    const logs = await task(['logs', 'cli-t1'])
    exits(logs, 0)
    assert.match(logs.stdout, /^\d\d:\d\d:\d\d info {2}tick 1\n\d\d:\d\d:\d\d info {2}tick 2\n\d\d:\d\d:\d\d info {2}tick 3\n/)
    const ended = await task(['logs', 'cli-t1', '--follow'])
    exits(ended, 0)
    assert.match(ended.stderr, /task ended: Finished/)
  })

  void it('logs --follow streams a running task through update, pause, resume and cancel', async () => {
    exits(await task(['create', '-c', 'CliTicker', '--id', 'cli-t2', '-a', '{"ticks":100000,"everyMs":100,"label":"alpha"}']), 0)
    await reaches('cli-t2', 'Running')
    const follow = await startCli(['task', 'logs', 'cli-t2', '--follow'], /alpha \d+/, { env: clientEnv }, children)

    const updated = await task(['update', 'cli-t2', '--attachments', '{"ticks":100000,"everyMs":100,"label":"beta"}'])
    exits(updated, 0)
    assert.match(updated.stdout, /^updated cli-t2: /)
    await waitFor(() => /update to beta[\s\S]*beta \d+/.test(follow.output()), 'the followed log to show the new label', 20_000)

    const paused = await task(['pause', 'cli-t2'])
    exits(paused, 0)
    assert.match(paused.stdout, /^pause cli-t2: accepted, status now \w+/)
    await reaches('cli-t2', 'Paused')
    const resumed = await task(['resume', 'cli-t2', '--json'])
    exits(resumed, 0)
    assert.equal((JSON.parse(resumed.stdout) as { id: string }).id, 'cli-t2')
    await reaches('cli-t2', 'Running')
    const before = follow.output().length
    await waitFor(() => /beta \d+/.test(follow.output().slice(before)), 'lines of the resumed run in the follow', 20_000)

    const cancelled = await task(['cancel', 'cli-t2'])
    exits(cancelled, 0)
    assert.equal(cancelled.stdout, 'cancelled cli-t2\n')
    const end = await follow.exited
    assert.equal(end.code, 1, follow.output())
    assert.match(follow.output(), /task ended: Cancelled/)
    // every line once: no line of the first run printed twice
    const lines = follow.output().split('\n').filter((l) => / info {2}(alpha|beta) \d+$/.test(l))
    assert.ok(lines.length > 3, follow.output())
    const repeated = lines.filter((line, i) => i > 0 && line.slice(9) === lines[i - 1]!.slice(9))
    assert.deepEqual(repeated, [], 'no line printed twice in a row')
  })

  void it('retry runs a cancelled task again; resume of a Cancelled task is the API\'s 409', async () => {
    const refused = await task(['resume', 'cli-t2'])
    exits(refused, 1)
    assert.match(refused.stderr, /cannot resume task "cli-t2": it is Cancelled .*\[E_TASK_STATE 409\]/)
    const retried = await task(['retry', 'cli-t2'])
    exits(retried, 0)
    assert.match(retried.stdout, /^retry cli-t2: accepted, status now (Created|Assigning|Running)/)
    await reaches('cli-t2', 'Running')
    exits(await task(['cancel', 'cli-t2']), 0)
    await reaches('cli-t2', 'Cancelled')
  })

  void it('a task that fails: logs --follow exits 1', async () => {
    exits(await task(['create', '-c', 'CliFailing', '--id', 'cli-t3', '--max-retries', '0']), 0)
    await reaches('cli-t3', 'Failed')
    const result = await task(['logs', 'cli-t3', '--follow'])
    exits(result, 1)
    assert.match(result.stderr, /task ended: Failed/)
    const got = await task(['get', 'cli-t3'])
    assert.match(got.stdout, /cli fixture fails on purpose/)
  })

  void it('attachments from stdin, dependencies and priority reach the API', async () => {
    const created = await task(['create', '-c', 'CliTicker', '--id', 'cli-t4', '--attachments-file', '-', '--depends-on', 'cli-t1', '--priority', '7', '--json'], {}, '{"ticks":1,"everyMs":1}')
    exits(created, 0)
    const body = JSON.parse(created.stdout) as { attachments: { ticks: number }; dependencies: string[]; priority: number }
    assert.equal(body.attachments.ticks, 1)
    assert.deepEqual(body.dependencies, ['cli-t1'])
    assert.equal(body.priority, 7)
    await reaches('cli-t4', 'Finished')
  })

  void it('the API\'s refusals: unknown task, attachments the worker\'s schema refuses, an existing id', async () => {
    const missing = await task(['get', 'no-such-task'])
    exits(missing, 1)
    assert.equal(missing.stderr, 'skalds: task "no-such-task" does not exist [E_TASK_NOT_FOUND 404]\n')
    const invalid = await task(['create', '-c', 'CliTicker', '-a', '{"ticks":0}'])
    exits(invalid, 1)
    assert.match(invalid.stderr, /ticks.*\[E_ATTACHMENTS_INVALID 400\]/)
    const twice = await task(['create', '-c', 'CliTicker', '--id', 'cli-t1'])
    exits(twice, 1)
    assert.match(twice.stderr, /\[E_TASK_EXISTS 409\]/)
  })

  void it('cache stats and cache clear', async () => {
    const stats = await runCli(['cache', 'stats', '--json'], { env: clientEnv })
    exits(stats, 0)
    const body = JSON.parse(stats.stdout) as { enabled: boolean; connection: { backend: string } }
    assert.equal(body.enabled, true)
    assert.equal(body.connection.backend, 'redis')
    const human = await runCli(['cache', 'stats'], { env: clientEnv })
    exits(human, 0)
    assert.match(human.stdout, /^hit rate +\d+\.\d% \(\d+ hits, \d+ misses\)$/m)
    assert.match(human.stdout, /^TYPE +KEYS +HIT RATE/m)
    const all = await runCli(['cache', 'clear'], { env: clientEnv })
    exits(all, 0)
    assert.equal(all.stdout, 'task caches invalidated: all\n')
    const one = await runCli(['cache', 'clear', '--task', 'cli-t1', '--json'], { env: clientEnv })
    exits(one, 0)
    assert.equal((JSON.parse(one.stdout) as { data: { scope: string } }).data.scope, 'task cli-t1')
    const noToken = await runCli(['cache', 'clear', '--url', url], { env: {} })
    exits(noToken, 1)
  })

  void it('the node and the controller stop cleanly on SIGINT: exit 0', async () => {
    node.child.kill('SIGINT')
    assert.equal((await node.exited).code, 0, node.output())
    controller.child.kill('SIGINT')
    assert.equal((await controller.exited).code, 0, controller.output())
  })
})
