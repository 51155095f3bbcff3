// Interop 1: our controller (SystemController, in the test's process) drives a real Python Skald node (skalds 0.3.8 from the venv,
// test/fixtures/python/skald_node.py running the Python InteropWorker), all on Redis 8, the Kafka 3.9 broker and
// MongoDB (FerretDB): a task created through our API is dispatched to the Python node and runs there; a live
// attachment update reaches the Python worker's update_event_handler; a cancel stops it; our API shows Running,
// Finished, Failed and Cancelled from the Python heartbeats alone (Python nodes never write a status). Then a mixed
// fleet: one Python node and one of ours (`skalds node`, a process), both with the class InteropWorker, get tasks dispatched.
// Isolation: a database and Skald ids of our own per run (no Redis key prefix: Python has none); Python's topics are fixed names (wire §2.2, no
// prefix), so tasks have unique ids and other runs' events on them are ignored by every node (the executor check).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { createClient } from 'redis'
import type { Locator } from 'playwright-core'
import { launchBrowser } from '../helpers/browser.ts'
import { apiClient, type ApiClient } from '../helpers/controller-api.ts'
import { BIN } from '../helpers/cli.ts'
import { kafka39Brokers, ourEnv, PeerProcess, PYTHON_FIXTURES, pythonEnv, spawnPython, startOurController, waitGroupReady } from '../helpers/python-peer.ts'
import { redis8Url } from '../helpers/servers.ts'
import { waitFor } from '../helpers/wait.ts'

const TOKEN = 'interop-node-token-0123456789'
const INTEROP_WORKER = fileURLToPath(new URL('../fixtures/workers/interop-worker.ts', import.meta.url))
const run = randomBytes(4).toString('hex')
const dbName = `interop_node_${run}`
const pyId = `py-node-${run}`
const tsId = `ts-node-${run}`
const children: PeerProcess[] = []
let dir: string
let api: ApiClient
let python: PeerProcess
let closeController: (() => Promise<void>) | undefined
const redis = createClient({ url: redis8Url() })
/** status → a task the Python node ran to it, for the dashboard's check */
const pythonRuns = new Map<string, string>()

interface Task {
  id: string
  lifecycleStatus: string
  executor: string | null
  attachments: Record<string, unknown>
  exception: string | null
}

async function create(attachments: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const id = `interop-${run}-${randomBytes(3).toString('hex')}`
  const reply = await api.call('POST', '/api/tasks/', { id, className: 'InteropWorker', attachments, maxRetries: 0, ...extra })
  assert.equal(reply.status, 201, JSON.stringify(reply.body))
  return id
}
const get = async (id: string): Promise<Task> => (await api.call<Task>('GET', `/api/tasks/${id}`)).body
function reaches(id: string, status: string, timeoutMs = 45_000): Promise<Task> {
  return waitFor(
    async () => {
      const task = await get(id)
      if (task.lifecycleStatus === status) return task
      if (['Finished', 'Failed', 'Cancelled'].includes(task.lifecycleStatus)) throw new Error(`task ${id} ended ${task.lifecycleStatus}, expected ${status}: ${JSON.stringify(task)}\n${python.tail()}`)
      return undefined
    },
    `task ${id} to be ${status}`,
    timeoutMs,
    250,
  )
}

async function waitText(locator: Locator, pattern: RegExp, what: string): Promise<void> {
  let last: string | null = null
  await waitFor(async () => pattern.test((last = await locator.first().textContent({ timeout: 1000 }).catch(() => null)) ?? ''), what, 20_000, 100).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the text was: ${JSON.stringify(last?.slice(0, 400))}`)
  })
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-interop-node-'))
  await redis.connect()
  const ours = await startOurController({ dbName, token: TOKEN, strategy: 'ROUND_ROBIN' })
  closeController = ours.close
  api = apiClient(ours.controller.url!, { authorization: `Bearer ${TOKEN}` })
  python = spawnPython('python node', join(PYTHON_FIXTURES, 'skald_node.py'), [], { env: pythonEnv({ dbName, logPath: join(dir, 'py-logs'), skaldId: pyId, extra: { SKALD_MODE: 'node' } }), cwd: dir }, children)
  // Registered in Redis (skalds:hash, the class list), read by our node monitor…
  await waitFor(
    async () => {
      const reply = await api.call<{ status: string; type: string; supportedTasks: string[] }>('GET', `/api/skalds/${pyId}`)
      return reply.status === 200 && reply.body.status === 'online' && reply.body.supportedTasks.includes('InteropWorker')
    },
    'our controller to see the Python node online with InteropWorker',
    60_000,
    250,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${python.tail()}`)
  })
  // …and its consumer group (its SKALD_ID) holds the partitions: it starts at `latest`, so only then is an assign seen.
  await waitGroupReady(kafka39Brokers(), (g) => g === pyId, `the Python node's group ${pyId} to be assigned`)
})

after(async () => {
  for (const p of children) p.kill()
  await closeController?.()
  await redis.quit().catch(() => {})
  rmSync(dir, { recursive: true, force: true })
})

void describe('interop: our controller, a Python Skald node', () => {
  void it('runs a task created through our API on the Python node: Running, then Finished, from its heartbeats', async () => {
    const id = await create({ label: 'finishes', runSeconds: 5 })
    const running = await reaches(id, 'Running')
    assert.equal(running.executor, pyId)
    await python.waitLine(new RegExp(`INTEROP before ${id} `), 'the Python worker to start')
    assert.deepEqual(python.events('before', id)[0], { label: 'finishes', outcome: 'finish', runSeconds: 5 })
    const finished = await reaches(id, 'Finished')
    assert.equal(finished.executor, pyId)
    assert.equal(python.events('done', id).length, 1)
    assert.equal(await redis.get(`task:${id}:heartbeat`), '200')
    pythonRuns.set('Finished', id)
  })

  void it('a live attachment update reaches the Python update_event_handler; a cancel stops the worker: Cancelled', async () => {
    const id = await create({ label: 'before-update', runSeconds: 120 })
    await reaches(id, 'Running')
    await python.waitLine(new RegExp(`INTEROP before ${id} `), 'the Python worker to start')
    // The worker's own taskworker.update consumer (group `<taskId>_<random>`, `latest`) must hold its partition first.
    await waitGroupReady(kafka39Brokers(), (g) => g.startsWith(`${id}_`), `the Python worker's group for ${id}`)
    const reply = await api.call('PUT', `/api/tasks/${id}/attachments`, { attachments: { label: 'after-update', runSeconds: 120 } })
    assert.equal(reply.status, 200, JSON.stringify(reply.body))
    await python.waitLine(new RegExp(`INTEROP update ${id} `), "the Python worker's update_event_handler", 30_000)
    // The Python node re-read MongoDB and sent the worker's model by field name; the worker validated it.
    assert.deepEqual(python.events('update', id)[0], { label: 'after-update', outcome: 'finish', runSeconds: 120 })
    await python.waitLine(new RegExp(`INTEROP step ${id} .*after-update`), 'a step with the new label', 10_000)
    assert.deepEqual((await get(id)).attachments, { label: 'after-update', runSeconds: 120 })

    const cancel = await api.call('PUT', `/api/tasks/${id}/status`, { lifecycleStatus: 'Cancelled' })
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body))
    await reaches(id, 'Cancelled')
    // The Python node SIGTERMed the worker, which wrote -2 as its last heartbeat.
    await waitFor(async () => (await redis.get(`task:${id}:heartbeat`)) === '-2', `task:${id}:heartbeat to be -2`, 20_000, 200)
    const steps = python.events('step', id).length
    await new Promise((resolve) => setTimeout(resolve, 3000))
    assert.equal(python.events('step', id).length, steps, 'the worker stopped stepping')
    assert.equal((await get(id)).lifecycleStatus, 'Cancelled')
    pythonRuns.set('Cancelled', id)
  })

  void it('a Python worker that raises is Failed, with its exception', async () => {
    const id = await create({ label: 'fails', runSeconds: 1, outcome: 'fail' })
    const failed = await reaches(id, 'Failed')
    assert.equal(failed.executor, pyId)
    assert.match(failed.exception ?? '', /InteropWorker fails failed on purpose/)
    assert.equal(await redis.get(`task:${id}:heartbeat`), '-1')
    pythonRuns.set('Failed', id)
  })

  void it('the dashboard shows the Python node and its runs Finished, Cancelled and Failed, with the exception', async () => {
    assert.equal(pythonRuns.size, 3, 'the tests above ran')
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ width: 1280, height: 800, colorScheme: 'light' })
      const base = api.url
      await page.goto(`${base}/dashboard/skalds`)
      await waitText(page.locator('main'), new RegExp(`${pyId}[\\s\\S]*InteropWorker`), 'the Python node with its class')
      for (const [status, id] of pythonRuns) {
        await page.goto(`${base}/dashboard/tasks/${encodeURIComponent(id)}`)
        await waitText(page.getByRole('heading', { level: 1 }), new RegExp(status), `the Python-run task ${id} ${status}`)
        await waitText(page.locator('main'), new RegExp(pyId), 'the node that ran it')
        if (status === 'Failed') await waitText(page.getByRole('region', { name: 'Errors and exceptions' }), /failed on purpose/, 'the Python exception')
      }
      await page.close()
      assert.deepEqual(browser.problems, [], 'no console errors')
    } finally {
      await browser.close()
    }
  })

  void it('a mixed fleet (the Python node and one of ours, both with InteropWorker) gets tasks dispatched to both', async () => {
    const ours = new PeerProcess(
      'skalds node',
      process.execPath,
      [BIN, 'node', '--worker', INTEROP_WORKER, '--id', tsId],
      { env: ourEnv({ dbName, extra: { LOG_LEVEL: 'warn' } }), cwd: dir },
      children,
    )
    await ours.waitLine(new RegExp(`skalds node ${tsId} running classes InteropWorker`), 'our node to start')
    await waitFor(async () => (await api.call<{ status: string }>('GET', `/api/skalds/${tsId}`)).body.status === 'online', 'our node online', 30_000, 250)
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      ids.push(await create({ label: `fleet-${i}`, runSeconds: 3 }))
      // one at a time, so the round robin sees both nodes for each
      await waitFor(async () => (await get(ids[i]!)).executor, `task ${ids[i]} to be dispatched`, 30_000, 200)
    }
    const done = await Promise.all(ids.map((id) => reaches(id, 'Finished', 90_000)))
    const executors = new Set(done.map((t) => t.executor))
    assert.deepEqual([...executors].sort(), [pyId, tsId].sort(), `executors: ${done.map((t) => `${t.id}@${t.executor}`).join(', ')}`)
    for (const t of done.filter((t) => t.executor === pyId)) assert.equal(python.events('done', t.id).length, 1, `the Python worker ran ${t.id}`)
  })
})
