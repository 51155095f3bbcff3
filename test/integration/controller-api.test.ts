// The controller's HTTP API on the embedded engines with a real node-mode Skald in this process: every route, its
// shapes and its errors, and a task driven through its whole life by API calls only.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { SystemController } from '../../src/controller/system-controller.ts'
import { apiClient, startController, type ApiClient } from '../helpers/controller-api.ts'
import { embeddedEngines, startSkald } from '../helpers/skald-run.ts'
import { waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
let controller: SystemController
let api: ApiClient
const hostOptions = { graceMs: 1000, poolSize: 1 }

before(async () => {
  controller = await startController(engines)
  api = apiClient(controller.url!)
  engines.started.push(await startSkald({ skaldId: 'api-node', bus: engines.bus, store: engines.store, state: engines.state, syncPeriodMs: 100, hostOptions }))
  await waitFor(async () => (await api.call('GET', '/api/skalds/api-node')).status === 200, 'the node to be seen')
})
after(async () => {
  await controller.stop()
  await engines.close()
})

type Task = { id: string; lifecycleStatus: string; executor: string | null; attachments: Record<string, unknown>; heartbeat: number; runtime: { hasCheckpoint: boolean; epoch: number } }
const status = async (id: string): Promise<string> => (await api.call<Task>('GET', `/api/tasks/${id}`)).body.lifecycleStatus
const waitStatus = (id: string, wanted: string, timeoutMs = 15_000) => waitFor(async () => (await status(id)) === wanted, `task ${id} to be ${wanted}`, timeoutMs, 50)

void describe('controller API: roots and documentation', () => {
  void it('answers / and /api, serves the OpenAPI document with every route group and its UI', async () => {
    const root = await api.call('GET', '/')
    assert.equal(root.status, 200)
    assert.equal(root.body.name, 'Skalds SystemController')
    assert.equal(root.body.mode, 'CONTROLLER')
    assert.equal((await api.call('GET', '/api')).body.name, 'SystemController API')
    const doc = await api.call<{ openapi: string; paths: Record<string, unknown> }>('GET', '/api/openapi.json')
    assert.equal(doc.status, 200)
    assert.match(doc.body.openapi, /^3\./)
    for (const path of ['/api/tasks', '/api/tasks/{task_id}', '/api/tasks/{task_id}/pause', '/api/skalds', '/api/system/health']) assert.ok(path in doc.body.paths, `${path} documented`)
    const ui = await fetch(`${api.url}/api/docs/`)
    assert.equal(ui.status, 200)
    assert.match(await ui.text(), /swagger/i)
  })

  void it('an unknown route is a 404 in the one error shape, naming the route', async () => {
    const r = await api.call('GET', '/api/nothing-here?x=1')
    assert.equal(r.status, 404)
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'error', 'path', 'status_code'])
    assert.equal(r.body.code, 'E_ROUTE_NOT_FOUND')
    assert.equal(r.body.path, '/api/nothing-here')
    assert.match(String(r.body.error), /GET \/api\/nothing-here/)
  })
})

void describe('controller API: tasks', () => {
  void it('creates a task (201), refuses a duplicate id (409) and bad bodies (400 naming the field)', async () => {
    const created = await api.call<Task>('POST', '/api/tasks/', { id: 'api-create-1', className: 'SlowWorker', attachments: { ms: 60_000 }, priority: 3 })
    assert.equal(created.status, 201)
    assert.equal(created.body.id, 'api-create-1')
    assert.equal(created.body.lifecycleStatus, 'Created')
    const dup = await api.call('POST', '/api/tasks', { id: 'api-create-1', className: 'SlowWorker' })
    assert.equal(dup.status, 409)
    assert.equal(dup.body.code, 'E_TASK_EXISTS')
    const cases: Array<[unknown, string]> = [
      [{ attachments: {} }, 'className'],
      [{ className: 'X', priority: 11 }, 'priority'],
      [{ className: 'X', bogus: 1 }, 'body'],
      [{ className: 'X', id: 'a b' }, 'id'],
      [{ className: 'X', mode: 'Sideways' }, 'mode'],
      [[1, 2], 'body'],
    ]
    for (const [body, field] of cases) {
      const r = await api.call<{ code: string; details: Array<{ field: string; reason: string }> }>('POST', '/api/tasks/', body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(r.body.code, 'E_INVALID_INPUT')
      assert.ok(r.body.details.some((d) => d.field === field), `${JSON.stringify(body)} → ${JSON.stringify(r.body.details)}`)
    }
    const broken = await api.call('POST', '/api/tasks/', '{"className": ')
    assert.equal(broken.status, 400)
    assert.equal(typeof broken.body.error, 'string')
    const huge = await api.call('POST', '/api/tasks/', { className: 'X', attachments: { blob: 'x'.repeat(2_000_000) } })
    assert.equal(huge.status, 413)
    await api.call('DELETE', '/api/tasks/api-create-1')
  })

  void it('lists and reads tasks stored with attachments null (Python 500s on them), with filters and both path forms', async () => {
    await engines.store.create({ id: 'api-null-att', className: 'NoSuchClass', source: 'test', attachments: null, lifecycleStatus: 'Finished' })
    const one = await api.call<Task>('GET', '/api/tasks/api-null-att')
    assert.equal(one.status, 200)
    assert.deepEqual(one.body.attachments, {})
    for (const path of ['/api/tasks/?className=NoSuchClass', '/api/tasks?className=NoSuchClass']) {
      const page = await api.call<{ items: Task[]; total: number; page: number; pageSize: number }>('GET', path)
      assert.equal(page.status, 200, path)
      assert.equal(page.body.total, 1)
      assert.equal(page.body.items[0]?.id, 'api-null-att')
      assert.equal(page.body.pageSize, 20)
    }
    const byText = await api.call<{ items: Task[] }>('GET', '/api/tasks/?id=NULL-ATT')
    assert.deepEqual(byText.body.items.map((t) => t.id), ['api-null-att'])
    assert.ok((await api.call<string[]>('GET', '/api/tasks/classnames')).body.includes('NoSuchClass'))
    for (const [query, field] of [['pageSize=101', 'pageSize'], ['page=0', 'page'], ['lifecycleStatus=Sleeping', 'lifecycleStatus'], ['sortBy=attachments', 'sortBy']]) {
      const r = await api.call<{ details: Array<{ field: string }> }>('GET', `/api/tasks/?${query}`)
      assert.equal(r.status, 400, query)
      assert.ok(r.body.details.some((d) => d.field === field), `${query} → ${JSON.stringify(r.body)}`)
    }
  })

  void it('a missing task is a 404 saying which, on every task route', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/tasks/no-such-task'],
      ['GET', '/api/tasks/no-such-task/heartbeat'],
      ['GET', '/api/tasks/no-such-task/progress'],
      ['GET', '/api/tasks/no-such-task/checkpoint'],
      ['GET', '/api/tasks/no-such-task/log'],
      ['GET', '/api/tasks/no-such-task/timeline'],
      ['DELETE', '/api/tasks/no-such-task'],
      ['POST', '/api/tasks/no-such-task/pause'],
      ['POST', '/api/tasks/no-such-task/resume'],
      ['POST', '/api/tasks/no-such-task/retry'],
      ['PUT', '/api/tasks/no-such-task/status', { lifecycleStatus: 'Cancelled' }],
      ['PUT', '/api/tasks/no-such-task/attachments', { attachments: {} }],
    ] as const) {
      const r = await api.call(method, path, body)
      assert.equal(r.status, 404, `${method} ${path}`)
      assert.equal(r.body.code, 'E_TASK_NOT_FOUND')
      assert.match(String(r.body.error), /no-such-task/)
    }
  })

  void it('drives a task through its life by API calls only: Running, live update, pause with checkpoint, resume, cancel', async () => {
    const id = 'api-life'
    assert.equal((await api.call('POST', '/api/tasks/', { id, className: 'CheckpointingWorker', attachments: { until: 100_000, stepMs: 20 } })).status, 201)
    await waitStatus(id, 'Running')
    const running = (await api.call<Task>('GET', `/api/tasks/${id}`)).body
    assert.equal(running.executor, 'api-node')
    await waitFor(async () => (await api.call<{ progress: { value: number } | null }>('GET', `/api/tasks/${id}/progress`)).body.progress !== null, 'progress')
    const beat = await api.call<{ isAlive: boolean; heartbeat: number }>('GET', `/api/tasks/${id}/heartbeat`)
    assert.equal(beat.body.isAlive, true)

    // a live update of a running task
    const updated = await api.call('PUT', `/api/tasks/${id}/attachments`, { attachments: { until: 200_000, stepMs: 20 } })
    assert.equal(updated.status, 200)
    assert.deepEqual((updated.body.data as { attachments: unknown }).attachments, { until: 200_000, stepMs: 20 })

    // pause: cooperative, the checkpoint kept with the task
    assert.equal((await api.call('POST', `/api/tasks/${id}/pause`)).status, 200)
    await waitStatus(id, 'Paused')
    const checkpoint = await api.call<{ state: { i: number }; bytes: number }>('GET', `/api/tasks/${id}/checkpoint`)
    assert.ok(checkpoint.body.state.i > 0, JSON.stringify(checkpoint.body))
    assert.ok(checkpoint.body.bytes > 0)
    const again = await api.call('POST', `/api/tasks/${id}/pause`)
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'E_TASK_STATE')

    // resume through Python's status route: dispatched again, from the checkpoint
    assert.equal((await api.call('PUT', `/api/tasks/${id}/status`, { lifecycle_status: 'Created' })).status, 200)
    await waitStatus(id, 'Running')
    // log lines reach Redis with the node's next tick
    await waitFor(async () => (await api.call<{ lines: string[] }>('GET', `/api/tasks/${id}/log?limit=1000`)).body.lines.some((l) => l.includes('resumedFrom') && /"i":\d+/.test(l)), 'the resumed run to start from the checkpoint')

    const cancelled = await api.call('DELETE', `/api/tasks/${id}`)
    assert.equal(cancelled.status, 200)
    assert.deepEqual(cancelled.body.data, { taskId: id, status: 'Cancelled' })
    assert.equal(await status(id), 'Cancelled')
    // the node ends the run as cancelled although the API stored Cancelled first: heartbeat -2, as Python readers expect
    await waitFor(async () => (await api.call<{ heartbeat: number }>('GET', `/api/tasks/${id}/heartbeat`)).body.heartbeat === -2, 'heartbeat -2 after the cancel')
    const resume = await api.call('POST', `/api/tasks/${id}/resume`)
    assert.equal(resume.status, 409)
    assert.match(String(resume.body.error), /Cancelled/)
    // retry a Cancelled task: back to Created and dispatched
    assert.equal((await api.call('POST', `/api/tasks/${id}/retry`)).status, 200)
    await waitStatus(id, 'Running')
    await api.call('DELETE', `/api/tasks/${id}`)

    // its timeline: every state change the feed saw, oldest first, with the node and the attempt
    type Timeline = { taskId: string; entries: Array<{ at: string; lifecycleStatus: string; executor: string | null; attempt: number; message: string | null }> }
    const timeline = await waitFor(async () => {
      const r = await api.call<Timeline>('GET', `/api/tasks/${id}/timeline`)
      return r.body.entries.filter((e) => e.lifecycleStatus === 'Cancelled').length === 2 ? r.body : undefined
    }, 'the second cancel in the timeline').catch(async (e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify((await api.call('GET', `/api/tasks/${id}/timeline`)).body)}`)
    })
    const statuses = timeline.entries.map((e) => e.lifecycleStatus)
    const order = ['Running', 'Paused', 'Running', 'Cancelled', 'Running', 'Cancelled']
    let at = 0
    for (const wanted of order) {
      at = statuses.indexOf(wanted, at) + 1
      assert.ok(at > 0, `${wanted} in order in ${statuses.join(' → ')}`)
    }
    const runs = timeline.entries.filter((e) => e.lifecycleStatus === 'Running')
    assert.ok(runs.every((e) => e.executor === 'api-node'), 'which node ran each attempt')
    assert.deepEqual(runs.map((e) => e.attempt), [...runs.map((e) => e.attempt)].sort((a, b) => a - b), 'attempts counted up')
    assert.ok(runs.at(-1)!.attempt > runs[0]!.attempt)
    const times = timeline.entries.map((e) => Date.parse(e.at))
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first, ISO times')
    assert.equal((await api.call<Timeline>('GET', `/api/tasks/${id}/timeline?limit=2`)).body.entries.length, 2)
    const bad = await api.call<{ code: string; details: Array<{ field: string }> }>('GET', `/api/tasks/${id}/timeline?limit=0`)
    assert.equal(bad.status, 400)
    assert.ok(bad.body.details.some((d) => d.field === 'limit'))
  })

  void it('pushes a task\'s live events over SSE: status changes from the store, progress from the node', async () => {
    const id = 'api-live-events'
    const controllerAbort = new AbortController()
    const response = await fetch(`${api.url}/api/events/tasks?task_id=${id}`, { signal: controllerAbort.signal, headers: { accept: 'text/event-stream' } })
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/)
    const events: Array<{ type: string; data?: Record<string, unknown> }> = []
    const reading = (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = frame.split('\n').find((l) => l.startsWith('data: '))
          if (data) events.push(JSON.parse(data.slice(6)) as { type: string; data?: Record<string, unknown> })
        }
      }
    })().catch(() => {})
    await api.call('POST', '/api/tasks/', { id, className: 'CheckpointingWorker', attachments: { until: 100_000, stepMs: 20 } })
    await waitFor(() => events.some((e) => e.type === 'task_status' && e.data?.lifecycleStatus === 'Running'), 'a task_status Running event')
    await waitFor(() => events.some((e) => e.type === 'task_progress'), 'a task_progress event')
    assert.equal(events[0]?.type, 'connection')
    const statuses = events.filter((e) => e.type === 'task_status').map((e) => e.data?.lifecycleStatus)
    // in lifecycle order, each once (a poll may see a later state only, never an earlier one after it)
    const order = ['Created', 'Assigning', 'Running']
    assert.deepEqual([...statuses].sort((a, b) => order.indexOf(String(a)) - order.indexOf(String(b))), statuses)
    assert.equal(new Set(statuses).size, statuses.length, JSON.stringify(statuses))
    await api.call('DELETE', `/api/tasks/${id}`)
    await waitFor(() => events.some((e) => e.type === 'task_status' && e.data?.lifecycleStatus === 'Cancelled'), 'a task_status Cancelled event')
    const sse = await api.call<{ connectedClients: number }>('GET', '/api/events/status')
    assert.ok(sse.body.connectedClients >= 1)
    controllerAbort.abort()
    await reading
  })

  void it('PUT status refuses values other than Created, Cancelled and Paused with a 400', async () => {
    await api.call('POST', '/api/tasks/', { id: 'api-status-bad', className: 'SlowWorker', attachments: { ms: 60_000 } })
    for (const body of [{ lifecycleStatus: 'Running' }, {}, { lifecycleStatus: 7 }]) {
      const r = await api.call('PUT', '/api/tasks/api-status-bad/status', body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(r.body.code, 'E_INVALID_INPUT')
    }
    await api.call('DELETE', '/api/tasks/api-status-bad')
  })

  void it('cancels by filter, and refuses a bulk cancel without one', async () => {
    const refused = await api.call('POST', '/api/tasks/cancel', {})
    assert.equal(refused.status, 400)
    assert.match(String(refused.body.error), /at least one filter/)
    for (const n of [1, 2, 3]) await engines.store.create({ id: `api-bulk-${n}`, className: 'BulkClass', source: 'test' })
    await engines.store.create({ id: 'api-bulk-done', className: 'BulkClass', source: 'test', lifecycleStatus: 'Finished' })
    const r = await api.call<{ matched: number; cancelled: string[]; skipped: unknown[] }>('POST', '/api/tasks/cancel', { className: 'BulkClass' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body.cancelled.sort(), ['api-bulk-1', 'api-bulk-2', 'api-bulk-3'])
    assert.equal(await status('api-bulk-done'), 'Finished')
  })
})

void describe('controller API: skalds and system', () => {
  void it('lists the node with its classes and load, and answers its detail routes', async () => {
    const list = await api.call<{ items: Array<{ id: string; type: string; status: string; supportedTasks: string[]; lastHeartbeat: number; load: unknown }>; total: number }>('GET', '/api/skalds/?type=node&status=online')
    const node = list.body.items.find((n) => n.id === 'api-node')
    assert.ok(node)
    assert.equal(node.type, 'node')
    assert.equal(typeof node.lastHeartbeat, 'number')
    assert.ok(node.supportedTasks.includes('CheckpointingWorker'))
    assert.notEqual(node.load, null)
    assert.equal((await api.call<{ total: number }>('GET', '/api/skalds/?type=edge')).body.total, 0)
    assert.equal((await api.call('GET', '/api/skalds/?status=sleeping')).status, 400)
    for (const suffix of ['', '/tasks', '/status', '/heartbeat']) assert.equal((await api.call('GET', `/api/skalds/api-node${suffix}`)).status, 200, suffix)
    const ping = await api.call('POST', '/api/skalds/api-node/ping')
    assert.equal(ping.body.success, true)
    const missing = await api.call('GET', '/api/skalds/nobody/status')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'E_SKALD_NOT_FOUND')
    const stats = await api.call('GET', '/api/skalds/summary/statistics')
    assert.equal(stats.body.onlineSkalds, 1)
    assert.equal(stats.body.availableNodes, 1)
  })

  void it('health checks the store and the bus for real; status, summary, config, metrics, analytics, version, cleanup answer', async () => {
    const health = await api.call<{ status: string; services: Record<string, { status: string }> }>('GET', '/api/system/health')
    assert.equal(health.status, 200)
    assert.equal(health.body.status, 'healthy')
    assert.deepEqual(Object.keys(health.body.services).sort(), ['bus:memory', 'store'])
    const summary = await api.call<Record<string, number>>('GET', '/api/system/dashboard/summary')
    assert.equal(summary.body.totalTasks, (await engines.store.count()))
    assert.equal(summary.body.onlineSkalds, 1)
    assert.equal((await api.call('GET', '/api/system/status')).body.mode, 'CONTROLLER')
    assert.equal((await api.call('GET', '/api/system/config')).body.mode, 'CONTROLLER')
    assert.ok((await api.call('GET', '/api/system/metrics')).body.tasks)
    assert.ok(Array.isArray((await api.call('GET', '/api/system/analytics/task-distribution')).body.distribution))
    assert.equal((await api.call('GET', '/api/system/analytics/recent-activity?hours=2')).body.timeframe, 'Last 2 hours')
    assert.equal((await api.call('GET', '/api/system/analytics/recent-activity?hours=500')).status, 400)
    assert.equal((await api.call('GET', '/api/system/version')).status, 200)
    assert.equal((await api.call('POST', '/api/system/cleanup')).body.success, true)
  })

  void it('serves Prometheus metrics: tasks by status, nodes online, leader, dispatch latency, per-class waiting tasks and free capacity', async () => {
    await engines.store.create({ id: 'api-metrics-waiting', className: 'NobodyRunsThis', source: 'test' })
    const response = await fetch(`${api.url}/metrics`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/)
    const text = await response.text()
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `))
      assert.ok(line, `${series} in\n${text}`)
      return Number(line.slice(series.length + 1))
    }
    assert.equal(value('skalds_tasks{status="Created"}'), await engines.store.count({ lifecycleStatus: 'Created' }))
    assert.equal(value('skalds_nodes_online{mode="node"}'), 1)
    assert.equal(value('skalds_leader'), 1)
    assert.ok(value('skalds_dispatch_latency_seconds_count') >= 1, 'the dispatches of the tests before')
    assert.equal(value('skalds_class_waiting_tasks{class="NobodyRunsThis"}'), 1)
    assert.equal(value('skalds_class_free_capacity{class="NobodyRunsThis"}'), 0)
    const node = (await api.call<{ load: { capacity: number; running: number } }>('GET', '/api/skalds/api-node')).body.load
    assert.equal(value('skalds_class_free_capacity{class="CheckpointingWorker"}'), node.capacity - node.running)
    await api.call('DELETE', '/api/tasks/api-metrics-waiting')
  })

  void it('health says unhealthy (503) when the store fails, degraded when the bus does', async () => {
    const { ChaosBus } = await import('../../src/bus/chaos.ts')
    const bus = new ChaosBus(engines.bus)
    const c = await startController({ ...engines, bus }, { api: { port: 0, logLevel: 'silent', rateLimit: false } })
    try {
      const client = apiClient(c.url!)
      bus.alwaysThrow(() => new Error('kafka is gone'))
      const degraded = await client.call<{ status: string; services: Record<string, { error?: string }> }>('GET', '/api/system/health')
      assert.equal(degraded.status, 200)
      assert.equal(degraded.body.status, 'degraded')
      assert.match(degraded.body.services['bus:memory']?.error ?? '', /kafka is gone/)
    } finally {
      await c.stop()
    }
  })
})
