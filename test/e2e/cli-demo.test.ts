// `skalds demo` as a user runs it: the real bin in a child process on the embedded engines (no server variables),
// the dashboard URL printed, the API healthy with the example tasks, Ctrl-C a clean exit; bad flags refused.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCli, startCli } from '../helpers/cli.ts'
import { killAll } from '../helpers/skald-processes.ts'

const children: ChildProcess[] = []
let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-cli-demo-'))
})
after(() => {
  killAll(children)
  rmSync(dir, { recursive: true, force: true })
})

void describe('skalds demo', () => {
  void it('prints the dashboard URL and what runs where, serves a healthy API with the example tasks, and stops on Ctrl-C', async () => {
    const demo = await startCli(['demo', '--port', '0', '--data-dir', join(dir, 'data')], /Ctrl-C stops it/, { cwd: dir }, children)
    const out = demo.output()
    const url = /Dashboard: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
    assert.ok(url, out)
    assert.match(out, /in this process, no server needed/)
    assert.match(out, /store sqlite at .*data\/skalds\.db/)
    const health = (await (await fetch(`${url}/api/system/health`)).json()) as { status: string }
    assert.equal(health.status, 'healthy')
    const tasks = (await (await fetch(`${url}/api/tasks/?pageSize=100`)).json()) as { total: number; items: Array<{ id: string }> }
    assert.deepEqual(tasks.items.map((t) => t.id).sort(), ['demo-batch-report', 'demo-flaky-import', 'demo-publish-results', 'demo-stream-analysis'])
    demo.child.kill('SIGINT')
    const { code } = await demo.exited
    assert.equal(code, 0, demo.output())
    assert.match(demo.output(), /stopping/)
    assert.doesNotMatch(demo.output(), /"level":/, 'readable lines, not JSON logs, unless LOG_LEVEL asks')
  })

  void it('refuses a bad --port or --drain-timeout with exit 2 naming the flag', async () => {
    const port = await runCli(['demo', '--port', 'eighty', '--data-dir', join(dir, 'bad')], { cwd: dir })
    assert.equal(port.code, 2, port.stderr)
    assert.match(port.stderr, /--port: must be a whole number between 0 and 65535/)
    const drain = await runCli(['demo', '--drain-timeout', '-1', '--data-dir', join(dir, 'bad')], { cwd: dir })
    assert.equal(drain.code, 2, drain.stderr)
    assert.match(drain.stderr, /--drain-timeout/)
  })

  void it('--help says what it runs and lists its flags', async () => {
    const help = await runCli(['demo', '--help'])
    assert.equal(help.code, 0)
    for (const flag of ['--port', '--host', '--data-dir', '--no-seed', '--drain-timeout']) assert.match(help.stdout, new RegExp(flag))
  })
})
