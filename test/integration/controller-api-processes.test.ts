// The System Controller as its own process (runController from env vars) with two Skald processes, on Redis 8
// (state, bus: Redis Streams, leadership) and SQLite, driven through the HTTP API only: create → Running →
// update seen by the worker → pause (checkpoint kept) → the node stops → resume runs on the other node from the
// checkpoint → cancel. The token guards the mutating routes.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { apiClient, type ApiClient } from '../helpers/controller-api.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { onFreePort } from '../helpers/ports.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { baseEnv, killAll, spawnSkald, type SkaldChild } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const prefix = uniquePrefix('ctl-api-proc')
const dir = mkdtempSync(join(tmpdir(), 'skalds-ctl-api-'))
const dbPath = join(dir, 'skalds.db')
const TOKEN = 'process-test-token-0123456789'
const CONTROLLER_ID = `ctl-api-proc-${process.pid}`
const children: ChildProcess[] = []
const common = { REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_BUS: 'redis-streams', SKALDS_SQLITE_PATH: dbPath }
let api: ApiClient

async function startControllerProcess(): Promise<string> {
  return onFreePort(async (port) => {
    const child = spawn(process.execPath, [new URL('../fixtures/controller-run.ts', import.meta.url).pathname], {
      env: { ...baseEnv(), ...common, LOG_LEVEL: 'info', LOG_PATH: join(dir, 'logs'), SKALDS_CONTROLLER_ID: CONTROLLER_ID, SYSTEM_CONTROLLER_PORT: String(port), SKALDS_API_TOKEN: TOKEN, MONITOR_SKALD_INTERVAL: '0.5', DISPATCHER_INTERVAL: '0.5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    const output: string[] = []
    child.stdout.setEncoding('utf8').on('data', (t: string) => output.push(...t.split('\n').filter(Boolean)))
    child.stderr.setEncoding('utf8').on('data', (t: string) => output.push(...t.split('\n').filter(Boolean)))
    await waitFor(() => output.some((l) => l.startsWith('ready ')) || child.exitCode !== null, 'the controller to start', 20_000)
    const ready = output.find((l) => l.startsWith('ready '))
    if (!ready) throw new Error(`controller did not start: ${output.join('\n')}`)
    return ready.slice('ready '.length)
  })
}

const node = (id: string): Promise<SkaldChild> => spawnSkald({ ...common, SKALD_ID: id, SKALD_MODE: 'node', TEST_DRAIN_MS: '3000', TEST_CLASSES: 'CheckpointingWorker,UpdatingWorker' }, children)
type Task = { lifecycleStatus: string; executor: string | null; runtime: { epoch: number } }
const task = async (id: string) => (await api.call<Task>('GET', `/api/tasks/${id}`)).body
const waitTask = (id: string, check: (t: Task) => boolean, what: string) => waitFor(async () => check(await task(id)), what, 30_000, 100)

before(async () => {
  api = apiClient(await startControllerProcess(), { authorization: `Bearer ${TOKEN}` })
})
after(async () => {
  killAll(children)
  const connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  await deleteKeysWithPrefix(connection, prefix)
  await connection.close()
  rmSync(dir, { recursive: true, force: true })
})

void describe('controller process + Skald processes, through the API only', () => {
  void it("LOG_PATH: the controller's lines go to <LOG_PATH>/SystemController_<id>.1.log as well as stdout", async () => {
    const file = join(dir, 'logs', `SystemController_${CONTROLLER_ID}.1.log`)
    const lines = await waitFor(() => {
      if (!existsSync(file)) return undefined
      const parsed = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name?: string; level?: number; msg?: string })
      return parsed.some((l) => l.msg === 'system controller started') ? parsed : undefined
    }, "the controller's start line in its log file")
    assert.ok(lines.every((l) => l.name?.startsWith('skalds:controller') && typeof l.level === 'number' && l.level >= 30), JSON.stringify(lines))
  })

  void it('create → Running → live update → pause → resume on the other node from the checkpoint → cancel', async () => {
    const nodeA = await node('api-proc-a')
    await waitFor(async () => (await api.call('GET', '/api/skalds/api-proc-a')).status === 200, 'node A to be seen', 20_000)
    assert.equal((await apiClient(api.url).call('POST', '/api/tasks/', { className: 'UpdatingWorker' })).status, 401, 'the token guards creation')

    // a live update reaches the worker's update hook
    const u = await api.call<{ id: string }>('POST', '/api/tasks/', { className: 'UpdatingWorker', attachments: { rtspUrl: 'rtsp://cam/1', fixFrame: 1 } })
    assert.equal(u.status, 201)
    await waitTask(u.body.id, (t) => t.lifecycleStatus === 'Running', 'the updating task to run')
    assert.equal((await api.call('PUT', `/api/tasks/${u.body.id}/attachments`, { attachments: { rtspUrl: 'rtsp://cam/1', fixFrame: 7 } })).status, 200)
    await waitFor(async () => {
      const p = (await api.call<{ progress: { message: string | null } | null }>('GET', `/api/tasks/${u.body.id}/progress`)).body.progress
      return p?.message?.includes('"fixFrame":7') === true
    }, 'the worker to report the new attachments', 20_000, 100)
    assert.equal((await api.call('DELETE', `/api/tasks/${u.body.id}`)).status, 200)

    // pause with a checkpoint, then resume elsewhere
    const c = await api.call<{ id: string }>('POST', '/api/tasks/', { className: 'CheckpointingWorker', attachments: { until: 1_000_000, stepMs: 5 } })
    const id = c.body.id
    await waitTask(id, (t) => t.lifecycleStatus === 'Running' && t.executor === 'api-proc-a', 'the task to run on node A')
    await waitFor(async () => (await api.call<{ progress: unknown }>('GET', `/api/tasks/${id}/progress`)).body.progress !== null, 'progress', 20_000, 100)
    assert.equal((await api.call('POST', `/api/tasks/${id}/pause`)).status, 200)
    await waitTask(id, (t) => t.lifecycleStatus === 'Paused', 'the task to be Paused')
    const checkpoint = (await api.call<{ state: { i: number } }>('GET', `/api/tasks/${id}/checkpoint`)).body.state
    assert.ok(checkpoint.i > 0, JSON.stringify(checkpoint))

    const nodeB = await node('api-proc-b')
    nodeA.child.kill('SIGTERM')
    await nodeA.exited
    await waitFor(async () => (await api.call<{ status: string }>('GET', '/api/skalds/api-proc-b')).body.status === 'online', 'node B online', 20_000)
    assert.equal((await api.call('POST', `/api/tasks/${id}/resume`)).status, 200)
    await waitTask(id, (t) => t.lifecycleStatus === 'Running' && t.executor === 'api-proc-b', 'the task to run on node B')
    await waitFor(async () => {
      const lines = (await api.call<{ lines: string[] }>('GET', `/api/tasks/${id}/log?limit=1000`)).body.lines
      const resumed = lines.map((l) => /"resumedFrom":\{"i":(\d+)\}/.exec(l)).find((m) => m !== null)
      return resumed ? Number(resumed[1]) >= checkpoint.i : false
    }, 'the run on node B to start from the checkpoint', 20_000, 100)

    assert.equal((await api.call('DELETE', `/api/tasks/${id}`)).status, 200)
    await waitTask(id, (t) => t.lifecycleStatus === 'Cancelled', 'Cancelled')
    const health = await api.call<{ status: string; services: Record<string, unknown> }>('GET', '/api/system/health')
    assert.equal(health.body.status, 'healthy')
    assert.deepEqual(Object.keys(health.body.services).sort(), ['bus:redis-streams', 'redis', 'store'])
    nodeB.child.kill('SIGTERM')
    await nodeB.exited
  })
})
