// Interop 3: edge Skalds and controllers across the two projects, on Redis 8, the Kafka 3.9 broker and MongoDB.
//  - A Python edge Skald (skalds 0.3.8, test/fixtures/python/skald_node.py with SKALD_MODE=edge and a YAML file)
//    appears in our controller (SystemController in this process) as an online edge with its classes, and its YAML tasks appear
//    in our task API (stored by the Python edge: mode Active, source YAML, executor = its id) as Running.
//  - Our edge Skald (`skalds edge --yaml`) appears in the Python controller's MONITOR views (`python -m
//    skalds.system_controller.main`, which always runs MONITOR, wire §8.1-15): `/api/skalds/` online, type edge, its
//    classes; `/api/tasks/` its YAML tasks.
// The two controllers never run at once (wire §10: both would write statuses). Each part has its own database and
// Skald ids; the Python controller also sees every other Skald registered on the shared Redis, which the checks
// ignore.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { apiClient } from '../helpers/controller-api.ts'
import { BIN } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'
import { ourEnv, PeerProcess, PYTHON_FIXTURES, pythonEnv, spawnPython, startOurController } from '../helpers/python-peer.ts'
import { waitFor } from '../helpers/wait.ts'

const INTEROP_WORKER = fileURLToPath(new URL('../fixtures/workers/interop-worker.ts', import.meta.url))
const run = randomBytes(4).toString('hex')
const children: PeerProcess[] = []
const dir = mkdtempSync(join(tmpdir(), 'skalds-interop-edge-'))

const closers: Array<() => Promise<void>> = []
after(async () => {
  for (const close of closers.splice(0)) await close()
  for (const p of children) p.kill()
  rmSync(dir, { recursive: true, force: true })
})

function yamlFile(name: string, tasks: Record<string, Record<string, unknown>>): string {
  const lines = ['TaskWorkers:']
  for (const [id, t] of Object.entries(tasks)) {
    lines.push(`  ${id}:`, `    className: ${String(t.className)}`, '    attachments:')
    for (const [k, v] of Object.entries(t.attachments as Record<string, unknown>)) lines.push(`      ${k}: ${JSON.stringify(v)}`)
  }
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

const stopAll = async (): Promise<void> => {
  for (const p of children) p.kill()
  await Promise.all(children.map((p) => p.exited))
}

void describe('interop: edge Skalds and controllers across the projects', () => {
  void it('a Python edge with its YAML file shows in our controller with its classes and tasks', async () => {
    const dbName = `interop_pyedge_${run}`
    const edgeId = `py-edge-${run}`
    const taskIds = [`py-edge-task-a-${run}`, `py-edge-task-b-${run}`]
    const yaml = yamlFile('python-edge.yml', {
      [taskIds[0]!]: { className: 'InteropWorker', attachments: { label: 'edge-a', runSeconds: 600 } },
      [taskIds[1]!]: { className: 'InteropWorker', attachments: { label: 'edge-b', runSeconds: 600 } },
    })
    const ours = await startOurController({ dbName })
    closers.push(ours.close)
    const api = apiClient(ours.controller.url!)
    const edge = spawnPython('python edge', join(PYTHON_FIXTURES, 'skald_node.py'), [], { env: pythonEnv({ dbName, logPath: join(dir, 'py-logs'), skaldId: edgeId, extra: { SKALD_MODE: 'edge', YAML_FILE: yaml } }), cwd: dir }, children)
    for (const id of taskIds) await edge.waitLine(new RegExp(`INTEROP before ${id} `), `the Python edge to start ${id}`, 60_000)

    const skald = await waitFor(
      async () => {
        const reply = await api.call<{ id: string; type: string; status: string; supportedTasks: string[]; currentTasks: string[]; taskCount: number }>('GET', `/api/skalds/${edgeId}`)
        return reply.status === 200 && reply.body.status === 'online' && reply.body.currentTasks.length === 2 ? reply.body : undefined
      },
      'our controller to see the Python edge online with its 2 tasks',
      30_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${edge.tail()}`)
    })
    assert.equal(skald.type, 'edge')
    assert.deepEqual(skald.supportedTasks, ['InteropWorker'])
    assert.deepEqual([...skald.currentTasks].sort(), [...taskIds].sort())
    assert.equal(skald.taskCount, 2)

    const list = await waitFor(
      async () => {
        const reply = await api.call<{ items: Array<{ id: string; className: string; mode: string; executor: string; lifecycleStatus: string; attachments: Record<string, unknown> }>; total: number }>('GET', '/api/tasks/?pageSize=100')
        return reply.body.total === 2 && reply.body.items.every((t) => t.lifecycleStatus === 'Running') ? reply.body.items : undefined
      },
      'our task API to list the 2 edge tasks Running',
      30_000,
      250,
    )
    for (const task of list) {
      assert.ok(taskIds.includes(task.id))
      assert.equal(task.className, 'InteropWorker')
      assert.equal(task.mode, 'Active')
      assert.equal(task.executor, edgeId)
      assert.deepEqual(task.attachments, { label: task.id.includes('-a-') ? 'edge-a' : 'edge-b', runSeconds: 600, outcome: 'finish' })
    }
    await closers.pop()?.()
    await stopAll()
  })

  void it('our edge shows in the Python controller (MONITOR) as online with its classes, and its tasks', async () => {
    const dbName = `interop_tsedge_${run}`
    const edgeId = `ts-edge-${run}`
    const taskIds = [`ts-edge-task-a-${run}`, `ts-edge-task-b-${run}`]
    const yaml = yamlFile('our-edge.yml', {
      [taskIds[0]!]: { className: 'InteropWorker', attachments: { label: 'ts-edge-a', runSeconds: 600 } },
      [taskIds[1]!]: { className: 'InteropWorker', attachments: { label: 'ts-edge-b', runSeconds: 600 } },
    })
    const edge = new PeerProcess(
      'skalds edge',
      process.execPath,
      [BIN, 'edge', '--worker', INTEROP_WORKER, '--yaml', yaml, '--id', edgeId],
      { env: ourEnv({ dbName, extra: { LOG_LEVEL: 'warn' } }), cwd: dir },
      children,
    )
    await edge.waitLine(new RegExp(`skalds edge ${edgeId} running`), 'our edge to start', 30_000)
    const port = await freePort()
    const controller = spawnPython(
      'python controller',
      '-m',
      ['skalds.system_controller.main'],
      { env: pythonEnv({ dbName, logPath: join(dir, 'py-controller-logs'), extra: { SYSTEM_CONTROLLER_HOST: '127.0.0.1', SYSTEM_CONTROLLER_PORT: String(port), MONITOR_SKALD_INTERVAL: '1' } }), cwd: dir },
      children,
    )
    const api = apiClient(`http://127.0.0.1:${port}`)
    const skald = await waitFor(
      async () => {
        const reply = await api.call<{ items: Array<{ id: string; type: string; status: string; supportedTasks: string[]; currentTasks: string[]; taskCount: number }> }>('GET', '/api/skalds/').catch(() => undefined)
        return reply?.status === 200 ? reply.body.items.find((s) => s.id === edgeId && s.currentTasks.length === 2) : undefined
      },
      "the Python controller's /api/skalds/ to list our edge with its 2 tasks",
      60_000,
      500,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${controller.tail()}`)
    })
    assert.equal(skald.status, 'online')
    assert.equal(skald.type, 'edge')
    assert.deepEqual(skald.supportedTasks, ['InteropWorker'])
    assert.deepEqual([...skald.currentTasks].sort(), [...taskIds].sort())
    assert.equal(skald.taskCount, 2)

    const tasks = await api.call<{ items: Array<{ id: string; className: string; mode: string; executor: string; lifecycleStatus: string; attachments: Record<string, unknown> }>; total: number }>('GET', '/api/tasks/?pageSize=100')
    assert.equal(tasks.status, 200, JSON.stringify(tasks.body))
    assert.equal(tasks.body.total, 2)
    for (const task of tasks.body.items) {
      assert.ok(taskIds.includes(task.id))
      assert.equal(task.className, 'InteropWorker')
      assert.equal(task.mode, 'Active')
      assert.equal(task.executor, edgeId)
      assert.equal(task.attachments.label, task.id.includes('-a-') ? 'ts-edge-a' : 'ts-edge-b')
    }
    await stopAll()
  })
})
