// `skalds demo` as a real process (test/fixtures/demo-process.ts → runDemo), driven through its HTTP API only.
// Embedded engines (no server in the child's environment, a temp data dir, port 0): healthy at once, both nodes
// online with the example classes, the seeded tasks running and progressing, a live attachment update seen in the
// worker's log, pause and resume from the checkpoint, the failing task retried to Finished, the dependent task
// started only after its dependency finished, Ctrl-C exits 0, and a second run on the same data finds its tasks
// (no duplicates) and runs them again. Distributed engines (Redis state and Redis Streams from the test servers,
// a key prefix of its own): healthy with Redis and the bus checked, nodes online, a task Running.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { silentLogger } from '../../src/config/logger.ts'
import { DEMO_WORKERS } from '../../src/embedded/demo-catalog.ts'
import { runDemo } from '../../src/embedded/demo.ts'
import { DemoOptionsError } from '../../src/embedded/errors.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { baseEnv } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

interface DemoChild {
  child: ChildProcess
  output: string[]
  url: string
  /** ms from spawn to the `demo ready` line (process start included) */
  readyAfterMs: number
  /** what runDemo measured: from its call to /api/system/health healthy */
  healthyInMs: number
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
}

interface TaskView {
  id: string
  lifecycleStatus: string
  executor: string | null
  updateDateTime: number
  runtime: { attempt: number; maxRetries: number | null; lastError: string | null }
}

const children: ChildProcess[] = []
const dirs: string[] = []
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-demo-'))
  dirs.push(dir)
  return dir
}

/** Spawns the demo in `cwd` (so no `.env` of the repository is read) and waits for its URL line. */
async function spawnDemo(dataDir: string, env: Record<string, string> = {}): Promise<DemoChild> {
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [new URL('../fixtures/demo-process.ts', import.meta.url).pathname, '--port', '0', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group: SIGINT goes to the demo and its worker children, as a terminal's Ctrl-C does
    detached: true,
  })
  children.push(child)
  const output: string[] = []
  child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)))
  child.stderr.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })))
  const line = await waitFor(() => output.find((l) => l.startsWith('demo ready ')) ?? (child.exitCode !== null ? `exited ${child.exitCode}` : undefined), 'the demo to start', 30_000)
  const readyAfterMs = performance.now() - spawnedAt
  const match = /^demo ready (\S+) healthy-in (\d+)$/.exec(line)
  assert.ok(match, `demo did not start: ${output.join('\n')}`)
  return { child, output, url: match[1]!, readyAfterMs, healthyInMs: Number(match[2]), exited }
}

async function api<T>(demo: DemoChild, path: string, init?: { method: string; body?: unknown }): Promise<{ status: number; body: T }> {
  const response = await fetch(`${demo.url}${path}`, {
    method: init?.method ?? 'GET',
    ...(init?.body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) } : {}),
  })
  return { status: response.status, body: (await response.json()) as T }
}

const task = async (demo: DemoChild, id: string): Promise<TaskView> => (await api<TaskView>(demo, `/api/tasks/${id}`)).body
const logOf = async (demo: DemoChild, id: string): Promise<string[]> => (await api<{ lines: string[] }>(demo, `/api/tasks/${id}/log?limit=1000`)).body.lines
/** The `msg` of each logger line of a task's log. */
const messagesOf = async (demo: DemoChild, id: string): Promise<Array<{ msg: string; time: number }>> =>
  (await logOf(demo, id)).filter((l) => l.startsWith('[logger] ')).map((l) => JSON.parse(l.slice('[logger] '.length)) as { msg: string; time: number })
const progressOf = async (demo: DemoChild, id: string): Promise<{ value: number; message: string | null } | null> =>
  (await api<{ progress: { value: number; message: string | null } | null }>(demo, `/api/tasks/${id}/progress`)).body.progress
const framesOf = async (demo: DemoChild): Promise<number> => Number(/frame (\d+)/.exec((await progressOf(demo, 'demo-stream-analysis'))?.message ?? '')?.[1] ?? 0)

async function interrupt(demo: DemoChild): Promise<number> {
  const sent = performance.now()
  process.kill(-demo.child.pid!, 'SIGINT')
  const exit = await demo.exited
  assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, demo.output.join('\n'))
  return exit.at - sent
}

const SEEDED = ['demo-stream-analysis', 'demo-flaky-import', 'demo-publish-results', 'demo-batch-report']

void describe('skalds demo on the embedded engines', () => {
  const dataDir = tempDir()
  let demo: DemoChild

  void it('starts healthy within a few seconds and prints its URL', async () => {
    demo = await spawnDemo(dataDir)
    console.log(`# spawn → URL line ${demo.readyAfterMs.toFixed(0)} ms; runDemo() → healthy ${demo.healthyInMs} ms`)
    assert.ok(demo.readyAfterMs < 5000, `ready after ${demo.readyAfterMs} ms`)
    assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const health = await api<{ status: string; services: Record<string, { status: string }> }>(demo, '/api/system/health')
    assert.equal(health.status, 200)
    assert.equal(health.body.status, 'healthy')
    assert.deepEqual(Object.keys(health.body.services).sort(), ['bus:memory', 'store'])
    assert.ok(demo.output.some((l) => l.includes('bus memory, Skald state memory, task caches memory')), demo.output.join('\n'))
    const config = await api<{ engines: Record<string, string | null> }>(demo, '/api/system/config')
    assert.deepEqual(config.body.engines, { store: 'sqlite', bus: 'memory', state: 'memory', cache: 'given' })
  })

  void it('shows both nodes online with the example classes', async () => {
    const nodes = await waitFor(async () => {
      const { body } = await api<{ items: Array<{ id: string; status: string; supportedTasks: string[] }> }>(demo, '/api/skalds/')
      return body.items.filter((n) => n.status === 'online').length === 2 ? body.items : undefined
    }, 'two nodes online', 10_000)
    assert.deepEqual(nodes.map((n) => n.id), ['demo-node-1', 'demo-node-2'])
    for (const node of nodes) assert.deepEqual([...node.supportedTasks].sort(), ['BatchReport', 'FlakyImport', 'PublishResults', 'StreamAnalysis'])
  })

  void it('seeds the example tasks, which run and progress', async () => {
    const { body } = await api<{ items: TaskView[]; total: number }>(demo, '/api/tasks/?pageSize=100')
    assert.deepEqual(body.items.map((t) => t.id).sort(), [...SEEDED].sort())
    for (const id of ['demo-stream-analysis', 'demo-batch-report']) await waitFor(async () => (await task(demo, id)).lifecycleStatus === 'Running', `${id} Running`, 10_000)
    const frames = await waitFor(() => framesOf(demo), 'stream frames counted', 10_000)
    await waitFor(async () => (await framesOf(demo)) > frames, 'stream frames increasing', 10_000)
    const first = await waitFor(() => progressOf(demo, 'demo-batch-report'), 'batch progress', 10_000)
    await waitFor(async () => ((await progressOf(demo, 'demo-batch-report'))?.value ?? 0) > first.value, 'batch progress increasing', 10_000)
  })

  void it('passes new attachments to the running stream analysis, whose log shows them', async () => {
    const next = { streamUrl: 'rtsp://cameras.example/garage', fps: 10, detect: ['car', 'bike'] }
    const put = await api<{ success: boolean }>(demo, '/api/tasks/demo-stream-analysis/attachments', { method: 'PUT', body: { attachments: next } })
    assert.equal(put.status, 200)
    await waitFor(async () => (await messagesOf(demo, 'demo-stream-analysis')).some((m) => m.msg === 'attachments updated: streamUrl=rtsp://cameras.example/garage fps=10 detect=car,bike'), 'the update in the log', 10_000)
    await waitFor(async () => (await messagesOf(demo, 'demo-stream-analysis')).some((m) => m.msg.includes('of rtsp://cameras.example/garage (10 fps)')), 'the next batch on the new stream', 10_000)
    // A bad value is refused by the worker's schema, checked by the controller before it is stored.
    const bad = await api<{ code: string }>(demo, '/api/tasks/demo-stream-analysis/attachments', { method: 'PUT', body: { attachments: { ...next, fps: 0 } } })
    assert.equal(bad.status, 400, JSON.stringify(bad.body))
  })

  void it('pauses the batch report and resumes it from its checkpoint', async () => {
    await waitFor(async () => ((await progressOf(demo, 'demo-batch-report'))?.value ?? 0) > 1, 'a few steps done', 10_000)
    assert.equal((await api(demo, '/api/tasks/demo-batch-report/pause', { method: 'POST' })).status, 200)
    await waitFor(async () => (await task(demo, 'demo-batch-report')).lifecycleStatus === 'Paused', 'Paused', 10_000)
    const checkpoint = (await api<{ state: { step: number } }>(demo, '/api/tasks/demo-batch-report/checkpoint')).body.state
    assert.ok(checkpoint.step >= 1, JSON.stringify(checkpoint))
    assert.equal((await api(demo, '/api/tasks/demo-batch-report/resume', { method: 'POST' })).status, 200)
    await waitFor(async () => (await task(demo, 'demo-batch-report')).lifecycleStatus === 'Running', 'Running again', 10_000)
    await waitFor(async () => (await messagesOf(demo, 'demo-batch-report')).some((m) => m.msg === `resuming from step ${checkpoint.step} of 120`), `"resuming from step ${checkpoint.step}" in the log`, 10_000)
  })

  void it('retries the failing import until it finishes', async () => {
    const done = await waitFor(async () => {
      const t = await task(demo, 'demo-flaky-import')
      return t.lifecycleStatus === 'Finished' || t.lifecycleStatus === 'Failed' ? t : undefined
    }, 'the import to end', 20_000)
    assert.equal(done.lifecycleStatus, 'Finished', done.runtime.lastError ?? '')
    assert.equal(done.runtime.attempt, 3)
    const messages = (await messagesOf(demo, 'demo-flaky-import')).map((m) => m.msg)
    // Each attempt says how many failed before it (the count rides in the checkpoint across retries).
    assert.ok(messages.some((m) => m.endsWith(': attempt 1')), messages.join('\n'))
    assert.ok(messages.some((m) => m.endsWith(': attempt 2 (1 failed before)')), messages.join('\n'))
    assert.ok(messages.some((m) => m.endsWith(': attempt 3 (2 failed before)')), messages.join('\n'))
    assert.ok(messages.includes('imported 1200 rows on attempt 3'), messages.join('\n'))
  })

  void it('starts the dependent task only after its dependency finished', async () => {
    await waitFor(async () => (await task(demo, 'demo-publish-results')).lifecycleStatus === 'Finished', 'publish Finished', 20_000)
    const imported = (await messagesOf(demo, 'demo-flaky-import')).find((m) => m.msg.startsWith('imported 1200 rows'))!
    const published = (await messagesOf(demo, 'demo-publish-results')).find((m) => m.msg.startsWith('dependency finished'))!
    assert.ok(published.time > imported.time, `publish started at ${published.time}, the import ended at ${imported.time}`)
  })

  void it('stops on Ctrl-C (SIGINT to its process group) with exit code 0 within a few seconds', async () => {
    const tookMs = await interrupt(demo)
    console.log(`# SIGINT → exit ${tookMs.toFixed(0)} ms (drain timeout 2000 ms)`)
    assert.ok(tookMs < 8000, `exited after ${tookMs} ms`)
  })

  void it('finds its tasks again on a second run, without duplicates, and runs them again', async () => {
    demo = await spawnDemo(dataDir)
    assert.ok(demo.output.filter((l) => l.includes('(from an earlier run)')).length === 4, demo.output.join('\n'))
    const { body } = await api<{ items: TaskView[]; total: number }>(demo, '/api/tasks/?pageSize=100')
    assert.equal(body.total, 4)
    assert.equal((await task(demo, 'demo-flaky-import')).lifecycleStatus, 'Finished')
    // The tasks the first run handed back at its stop run again; the report continues where it stopped.
    const stream = await waitFor(async () => {
      const t = await task(demo, 'demo-stream-analysis')
      return t.lifecycleStatus === 'Running' ? t : undefined
    }, 'stream Running again', 15_000)
    assert.equal(stream.runtime.attempt, 2)
    await waitFor(async () => (await messagesOf(demo, 'demo-batch-report')).some((m) => m.msg.startsWith('resuming from step')), 'the report resumed', 15_000)
    await waitFor(async () => (await framesOf(demo)) > 0, 'stream frames', 10_000)
    await interrupt(demo)
  })
})

void describe('skalds demo on the distributed engines (Redis state, Redis Streams)', () => {
  const prefix = uniquePrefix('demo')
  after(async () => {
    const connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
    await deleteKeysWithPrefix(connection, prefix)
    await connection.close()
  })

  void it('runs the same on the configured servers', async () => {
    const demo = await spawnDemo(tempDir(), { REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_BUS: 'redis-streams' })
    console.log(`# distributed: spawn → URL line ${demo.readyAfterMs.toFixed(0)} ms; runDemo() → healthy ${demo.healthyInMs} ms`)
    const health = await api<{ status: string; services: Record<string, { status: string }> }>(demo, '/api/system/health')
    assert.equal(health.body.status, 'healthy')
    assert.deepEqual(Object.keys(health.body.services).sort(), ['bus:redis-streams', 'redis', 'store'])
    assert.ok(demo.output.some((l) => l.includes('on the configured servers') && l.includes('bus redis-streams, Skald state redis, task caches redis')), demo.output.join('\n'))
    await waitFor(async () => (await api<{ items: Array<{ status: string }> }>(demo, '/api/skalds/')).body.items.filter((n) => n.status === 'online').length === 2, 'two nodes online', 15_000)
    await waitFor(async () => (await task(demo, 'demo-stream-analysis')).lifecycleStatus === 'Running', 'stream Running', 15_000)
    await waitFor(async () => (await framesOf(demo)) > 0, 'stream frames', 15_000)
    const put = await api(demo, '/api/tasks/demo-stream-analysis/attachments', { method: 'PUT', body: { attachments: { streamUrl: 'rtsp://cameras.example/dock', fps: 5, detect: ['truck'] } } })
    assert.equal(put.status, 200)
    await waitFor(async () => (await messagesOf(demo, 'demo-stream-analysis')).some((m) => m.msg.startsWith('attachments updated: streamUrl=rtsp://cameras.example/dock')), 'the update in the log', 10_000)
    await interrupt(demo)
  })
})

void describe('runDemo() options and workers', () => {
  void it('refuses a bad option with E_DEMO_OPTIONS naming it, before opening anything', async () => {
    for (const [options, field] of [[{ port: 70_000 }, 'port'], [{ port: -1 }, 'port'], [{ dataDir: '' }, 'dataDir'], [{ drainTimeoutMs: 1.5 }, 'drainTimeoutMs'], [{ seed: 'yes' }, 'seed']] as const) {
      await assert.rejects(runDemo(options as never), (error: unknown) => {
        assert.ok(error instanceof DemoOptionsError, String(error))
        assert.equal(error.code, 'E_DEMO_OPTIONS')
        assert.match(error.message, new RegExp(`^runDemo: ${field}: `))
        return true
      })
    }
  })

  void it('loads each worker module next to the catalog, with the catalog\'s own extension', () => {
    for (const [name, cls] of Object.entries(DEMO_WORKERS)) {
      const file = fileURLToPath(cls.worker.module)
      assert.ok(file.endsWith('.ts') && existsSync(file), `${name}: ${file}`)
    }
  })
})
