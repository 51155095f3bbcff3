// `skalds` as a user meets it before any server: --help of every command, bad flags, bad input, a bad `.env`,
// a bad YAML file, worker modules that do not load, and a controller or servers that do not answer. Every case
// runs the real bin/skalds.js in a child process and checks its exit code and its one-line message.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { BIN, CLI_WORKERS, runCli } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'

const COMMANDS = [
  [],
  ['controller'],
  ['node'],
  ['edge'],
  ['run'],
  ['task'],
  ['task', 'create'],
  ['task', 'list'],
  ['task', 'get'],
  ['task', 'update'],
  ['task', 'pause'],
  ['task', 'resume'],
  ['task', 'cancel'],
  ['task', 'retry'],
  ['task', 'logs'],
  ['cache'],
  ['cache', 'stats'],
  ['cache', 'clear'],
  ['doctor'],
]

let dir: string
let deadUrl: string
let deadPort: number
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-cli-usage-'))
  deadPort = await freePort()
  deadUrl = `http://127.0.0.1:${deadPort}`
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** Asserts the exit code, with the output in the message when it differs. */
function exits(result: { code: number | null; stdout: string; stderr: string }, code: number): void {
  assert.equal(result.code, code, `exit ${result.code}, expected ${code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
}

void describe('skalds --help', () => {
  for (const path of COMMANDS) {
    void it(`skalds ${[...path, '--help'].join(' ')} prints its usage and exits 0`, async () => {
      const result = await runCli([...path, '--help'])
      exits(result, 0)
      assert.match(result.stdout, new RegExp(`^Usage: skalds${path.length ? ` ${path.join(' ')}` : ''} `))
    })
  }

  void it('the top-level help lists every command and the exit codes', async () => {
    const { stdout } = await runCli(['--help'])
    for (const name of ['controller', 'node', 'edge', 'run', 'task', 'cache', 'doctor']) assert.match(stdout, new RegExp(`^  ${name} `, 'm'))
    assert.match(stdout, /Exit codes:[\s\S]*3 {2}a server could not be reached/)
  })

  void it('answers quickly: it loads no command implementation', async () => {
    const started = performance.now()
    exits(await runCli(['--help']), 0)
    // generous for a loaded shared machine; docs/cli.md quotes the measured median (about 0.1 s)
    assert.ok(performance.now() - started < 3000, `--help took ${Math.round(performance.now() - started)} ms`)
  })

  void it('--version prints the package version', async () => {
    const result = await runCli(['--version'])
    exits(result, 0)
    assert.match(result.stdout, /^\d+\.\d+\.\d+/)
  })
})

void describe('bad usage exits 2 with one line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown option', ['task', 'list', '--bogus'], /unknown option '--bogus'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a missing required option', ['task', 'create'], /required option '-c, --class <className>' not specified/],
    ['a missing argument', ['task', 'get'], /missing required argument 'id'/],
    ['a value outside the choices', ['task', 'list', '--status', 'Sleeping'], /Allowed choices are Created, Assigning/],
    ['a page that is not a number', ['task', 'list', '--page', 'two'], /--page: must be a whole number of at least 1/],
    ['a page size over 100', ['task', 'list', '--page-size', '500'], /--page-size: must be a whole number between 1 and 100/],
    ['attachments that are not JSON', ['task', 'create', '-c', 'X', '--attachments', '{oops'], /--attachments: not valid JSON/],
    ['attachments that are not an object', ['task', 'create', '-c', 'X', '--attachments', '[1,2]'], /--attachments: must be a JSON object/],
    ['an attachments file that does not exist', ['task', 'create', '-c', 'X', '--attachments-file', '/nonexistent/a.json'], /--attachments-file \/nonexistent\/a.json: cannot read: ENOENT/],
    ['both attachment flags', ['task', 'update', 't', '--attachments', '{}', '--attachments-file', 'a.json'], /give --attachments or --attachments-file, not both/],
    ['update without attachments', ['task', 'update', 't'], /give the attachments/],
    ['a priority out of range', ['task', 'create', '-c', 'X', '--priority', '11'], /--priority: must be a whole number between 0 and 10/],
    ['a deadline that is not a time', ['task', 'create', '-c', 'X', '--deadline', 'soon'], /--deadline: expected an ISO date/],
    ['a URL that is not http', ['task', 'list', '--url', 'ftp://x'], /--url: must be an http:\/\/ or https:\/\/ URL/],
    ['a port flag out of range', ['controller', '--port', '70000'], /^skalds: --port: must be between 1 and 65535 \(got "70000"\)$/m],
    ['a node without --worker', ['node'], /required option '-w, --worker/],
    ['an edge without --yaml', ['edge', '--worker', 'x.ts'], /required option '--yaml <file>' not specified/],
    ['cache clear with --task and --skald', ['cache', 'clear', '--task', 'a', '--skald', 'b'], /give --task or --skald, not both/],
  ]
  for (const [what, args, message] of cases) {
    void it(what, async () => {
      const result = await runCli(args, { env: { SKALDS_CONTROLLER_URL: deadUrl } })
      exits(result, 2)
      assert.match(result.stderr, message)
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
    })
  }

  void it('a worker module that does not exist', async () => {
    const result = await runCli(['node', '--worker', './no-such-worker.ts'], { cwd: dir })
    exits(result, 2)
    assert.match(result.stderr, /--worker \.\/no-such-worker\.ts: no such file: .*no-such-worker\.ts/)
  })

  void it('an export that is not a worker names the ones that are', async () => {
    const result = await runCli(['node', '--worker', `${CLI_WORKERS}#Nope`], { cwd: dir })
    exits(result, 2)
    assert.match(result.stderr, /export "Nope" is not a worker made by defineWorker \(workers there: CliFailing, CliTicker\)/)
  })

  void it('a module without workers', async () => {
    const file = join(dir, 'empty.ts')
    writeFileSync(file, 'export const x = 1\n')
    const result = await runCli(['node', '--worker', file], { cwd: dir })
    exits(result, 2)
    assert.match(result.stderr, /the module exports no worker made by defineWorker/)
  })
})

void describe('configuration errors exit 2 naming the file, line or setting', () => {
  void it('a .env line that is not NAME=value: the file and the line', async () => {
    const cwd = mkdtempSync(join(dir, 'env-'))
    writeFileSync(join(cwd, '.env'), '# settings\nREDIS_PORT=6379\nthis is not an assignment\n')
    const result = await runCli(['doctor'], { cwd })
    exits(result, 2)
    assert.equal(result.stderr.trim(), `skalds: ${join(cwd, '.env')}:3: expected NAME=value, got "this is not an assignment" [E_CONFIG_FILE]`)
  })

  void it('a bad value in .env: the file, the line and the variable', async () => {
    const cwd = mkdtempSync(join(dir, 'env-'))
    writeFileSync(join(cwd, '.env'), 'LOG_LEVEL=warn\n\nREDIS_HOST=localhost\nREDIS_PORT=70000\n')
    const result = await runCli(['controller'], { cwd })
    exits(result, 2)
    assert.match(result.stderr, new RegExp(`^skalds: ${join(cwd, '.env')}:4: REDIS_PORT: must be between 1 and 65535 \\(got "70000"\\)`))
  })

  void it('--env-file names another file', async () => {
    const file = join(dir, 'other.env')
    writeFileSync(file, 'SKALDS_BUS=carrier-pigeon\n')
    const result = await runCli(['--env-file', file, 'doctor'], { cwd: dir })
    exits(result, 2)
    assert.match(result.stderr, new RegExp(`${file}:1: SKALDS_BUS: must be auto, memory, redis-streams or kafka`))
  })

  void it('LOG_PATH that cannot be written: skalds node stops at start naming it; doctor checks its folder', async () => {
    const blocker = join(dir, 'a-file-not-a-folder')
    writeFileSync(blocker, '')
    const env = { LOG_PATH: join(blocker, 'logs'), SKALDS_SQLITE_PATH: join(dir, 'logs.db') }
    const node = await runCli(['node', '--worker', CLI_WORKERS], { env, cwd: dir })
    exits(node, 2)
    assert.match(node.stderr, /^skalds: LOG_PATH: cannot write a log file in ".*a-file-not-a-folder\/logs"/)
    const bad = await runCli(['doctor', '--json'], { env, cwd: dir })
    exits(bad, 1)
    const badLogs = (JSON.parse(bad.stdout) as { checks: Array<{ name: string; status: string; message: string; hint?: string }> }).checks.find((c) => c.name === 'logs')
    assert.equal(badLogs?.status, 'fail')
    assert.match(badLogs?.message ?? '', /a-file-not-a-folder is not a folder/)
    assert.ok(badLogs?.hint)
    const good = await runCli(['doctor', '--json'], { env: { ...env, LOG_PATH: join(dir, 'new', 'logs') }, cwd: dir })
    exits(good, 0)
    const goodLogs = (JSON.parse(good.stdout) as { checks: Array<{ name: string; status: string; message: string }> }).checks.find((c) => c.name === 'logs')
    assert.equal(goodLogs?.status, 'ok', goodLogs?.message)
    assert.match(goodLogs?.message ?? '', /rolled at 10 MB, removed 72 h after their last line/)
  })

  void it('a bad environment variable: its name', async () => {
    const result = await runCli(['node', '--worker', CLI_WORKERS], { env: { MONITOR_TASK_INTERVAL: '1', SKALD_MODE: 'node', SKALDS_API_TOKEN: 'short' }, cwd: dir })
    exits(result, 2)
    assert.match(result.stderr, /^skalds: (MONITOR_TASK_INTERVAL|SKALDS_API_TOKEN): must be at least/)
  })

  void it('a flag wins over the environment, and is named when bad', async () => {
    const result = await runCli(['node', '--worker', CLI_WORKERS, '--id', 'has spaces'], { env: { SKALD_ID: 'fine' }, cwd: dir })
    exits(result, 2)
    assert.match(result.stderr, /^skalds: --id: must be 1-128 letters, digits or _ \. : -/)
  })

  for (const mode of ['run', 'edge']) {
    void it(`skalds ${mode}: a bad YAML file names the file, the line and the field`, async () => {
      const file = join(dir, `bad-${mode}.yml`)
      writeFileSync(file, 'TaskWorkers:\n  job-1:\n    className: CliTicker\n  job-2:\n    attachments: {}\n')
      const result = await runCli([mode, '--yaml', file, '--worker', CLI_WORKERS], { env: { SKALDS_SQLITE_PATH: join(dir, `${mode}.db`) }, cwd: dir })
      exits(result, 2)
      assert.match(result.stderr, new RegExp(`^skalds: ${file}:4: TaskWorkers\\.job-2\\.className: required`))
    })

    void it(`skalds ${mode}: YAML that does not parse names the line`, async () => {
      const file = join(dir, `syntax-${mode}.yml`)
      writeFileSync(file, 'TaskWorkers:\n  job-1:\n    className: [unclosed\n')
      const result = await runCli([mode, '--yaml', file, '--worker', CLI_WORKERS], { env: { SKALDS_SQLITE_PATH: join(dir, `${mode}.db`) }, cwd: dir })
      exits(result, 2)
      assert.match(result.stderr, new RegExp(`^skalds: ${file}:\\d+: `))
    })
  }
})

void describe('servers that do not answer exit 3', () => {
  const calls: string[][] = [
    ['task', 'list'],
    ['task', 'get', 't-1'],
    ['task', 'create', '-c', 'CliTicker'],
    ['task', 'cancel', 't-1'],
    ['task', 'logs', 't-1', '--follow'],
    ['cache', 'stats'],
    ['cache', 'clear'],
  ]
  for (const args of calls) {
    void it(`skalds ${args.join(' ')} against a closed port`, async () => {
      const result = await runCli([...args, '--url', deadUrl])
      exits(result, 3)
      assert.equal(result.stderr.trim(), `skalds: cannot reach the controller at ${deadUrl}: ECONNREFUSED (is \`skalds controller\` running? set --url or SKALDS_CONTROLLER_URL)`)
    })
  }

  void it('the URL comes from SKALDS_CONTROLLER_URL, and from .env', async () => {
    exits(await runCli(['task', 'list'], { env: { SKALDS_CONTROLLER_URL: deadUrl } }), 3)
    const cwd = mkdtempSync(join(dir, 'url-'))
    writeFileSync(join(cwd, '.env'), `SKALDS_CONTROLLER_URL=${deadUrl}\n`)
    const result = await runCli(['task', 'list'], { cwd })
    exits(result, 3)
    assert.match(result.stderr, new RegExp(`cannot reach the controller at ${deadUrl}`))
  })

  void it('--verbose adds the stack trace', async () => {
    const result = await runCli(['task', 'list', '--url', deadUrl, '--verbose'])
    exits(result, 3)
    assert.match(result.stderr, /CliError: cannot reach the controller[\s\S]*\n\s+at /)
  })

  void it('skalds doctor: each server unreachable, with a hint, exit 3', async () => {
    const [redisPort, mongoPort, kafkaPort] = [await freePort(), await freePort(), await freePort()]
    const env = {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      MONGO_URL: `mongodb://127.0.0.1:${mongoPort}/`,
      SKALDS_CONTROLLER_URL: deadUrl,
    }
    const result = await runCli(['doctor', '--json', '--timeout', '800'], { env, cwd: dir })
    exits(result, 3)
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; reachable: boolean; hint?: string }> }
    assert.equal(report.ok, false)
    assert.deepEqual(report.checks.map((c) => [c.name, c.status, c.reachable]), [
      ['redis', 'fail', false],
      ['bus', 'fail', false],
      ['store', 'fail', false],
      ['controller', 'fail', false],
    ])
    for (const check of report.checks) assert.ok(check.hint, `${check.name} has a hint`)
    const human = await runCli(['doctor', '--timeout', '800'], { env, cwd: dir })
    exits(human, 3)
    assert.match(human.stdout, /^FAIL {2}redis/m)
    assert.match(human.stdout, /hint: start Redis/)
    assert.match(human.stderr, /4 of 4 checks failed/)
  })

  void it('skalds node: Redis not answering at start-up', async () => {
    const port = await freePort()
    const result = await runCli(['node', '--worker', CLI_WORKERS], { env: { REDIS_URL: `redis://127.0.0.1:${port}`, SKALDS_SQLITE_PATH: join(dir, 'n.db') }, cwd: dir })
    exits(result, 3)
    assert.match(result.stderr, new RegExp(`^skalds: .*127\\.0\\.0\\.1:${port}`))
  })
})

// The bin refuses an older Node with a clear message; this machine's system Node is such a Node when it is < 24.
const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path))
const systemMajor = systemNode ? Number(execFileSync(systemNode, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim()) : 24
if (systemNode && systemMajor < 24) {
  void it(`on Node ${systemMajor} (${systemNode}) the bin says it needs Node 24 and exits 2`, () => {
    let failure: { status: number; stderr: string } | undefined
    try {
      execFileSync(systemNode, [BIN, '--help'], { encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      failure = error as { status: number; stderr: string }
    }
    assert.equal(failure?.status, 2)
    assert.match(failure.stderr, /^skalds: needs Node\.js 24 or newer, this is v\d+/)
  })
}
