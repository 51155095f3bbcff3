// /api/events over real sockets: a bare Fastify app (the zod compilers set, as the controller's app does) listening
// on port 0 with the events plugin. Headers and frames as Python's (plus ids and keep-alives), the filters, resume
// after a dropped connection (raw Last-Event-ID, ?lastEventId=, and the `eventsource` client reconnecting by
// itself): no event lost or doubled; a foreign id gets a resync; a bad query is a 400; a client that stops reading
// is dropped while the others keep up; and the sources on Redis turning a publisher's writes into events.
import assert from 'node:assert/strict'
import { get, type IncomingMessage } from 'node:http'
import { connect as tcpConnect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { EventSource } from 'eventsource'
import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { silentLogger } from '../../src/config/logger.ts'
import { eventsRoutes, type EventsRoutesOptions } from '../../src/controller/http/routes/events.ts'
import { LiveHub } from '../../src/controller/live/hub.ts'
import { createLiveSources } from '../../src/controller/live/sources.ts'
import { NodeMonitor } from '../../src/controller/node-monitor.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createSkaldStatePublisher } from '../../src/state/publisher.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { waitFor } from '../helpers/wait.ts'

interface Frame {
  id?: string
  data?: Record<string, unknown>
  comment?: string
}

/** A raw SSE client: every frame parsed as it arrives. */
interface Client {
  res: IncomingMessage
  frames: Frame[]
  events: () => Array<Record<string, unknown>>
  close: () => void
}

function parse(block: string): Frame {
  const frame: Frame = {}
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) frame.id = line.slice(4)
    else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Record<string, unknown>
    else if (line.startsWith(':')) frame.comment = line.slice(1)
  }
  return frame
}

function sse(base: string, path: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const req = get(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      const frames: Frame[] = []
      let buffer = ''
      res.setEncoding('utf8').on('data', (text: string) => {
        buffer += text
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          frames.push(parse(buffer.slice(0, end)))
          buffer = buffer.slice(end + 2)
        }
      })
      res.on('error', () => {})
      const events = () => frames.flatMap((f) => (f.data && f.data.type !== 'connection' && f.data.type !== 'resync' ? [f.data] : []))
      resolve({ res, frames, events, close: () => req.destroy() })
    })
    req.on('error', reject)
  })
}

async function json(base: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function serve(hub: LiveHub, options: Partial<EventsRoutesOptions> = {}): Promise<{ app: FastifyInstance; base: string; sockets: Set<Socket> }> {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(eventsRoutes, { prefix: '/api/events', hub, ...options })
  const sockets = new Set<Socket>()
  app.server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { app, base: `http://127.0.0.1:${port}`, sockets }
}

const progress = (taskId: string, value: number) => ({ type: 'task_progress' as const, taskId, data: { value, message: null }, timestamp: Date.now() })
const values = (events: Array<Record<string, unknown>>) => events.map((e) => (e.data as { value: number }).value)

void describe('/api/events (HTTP)', () => {
  const hub = new LiveHub()
  let server: Awaited<ReturnType<typeof serve>>
  const clients: Client[] = []
  before(async () => {
    server = await serve(hub, { keepAliveMs: 100, testIntervalMs: 50 })
  })
  after(async () => {
    for (const c of clients) c.close()
    await server.app.close()
  })
  const open = async (path: string, headers?: Record<string, string>) => {
    const c = await sse(server.base, path, headers)
    clients.push(c)
    return c
  }

  void it("headers, Python's first frame, then id + compact data frames and keep-alive comments", async () => {
    const c = await open('/api/events/skalds')
    assert.equal(c.res.statusCode, 200)
    assert.equal(c.res.headers['content-type'], 'text/event-stream')
    assert.equal(c.res.headers['cache-control'], 'no-cache')
    assert.equal(c.res.headers['x-accel-buffering'], 'no')
    await waitFor(() => c.frames.length >= 1, 'the greeting')
    assert.deepEqual(c.frames[0]!.data, { type: 'connection', message: 'Connected to Skalds events' })
    hub.publish('skalds', { type: 'skald_status', skaldId: 'n1', data: { status: 'online', taskCount: 2 }, timestamp: 123 })
    await waitFor(() => c.events().length === 1, 'the event')
    assert.deepEqual(c.events()[0], { type: 'skald_status', skaldId: 'n1', data: { status: 'online', taskCount: 2 }, timestamp: 123 })
    assert.match(c.frames.find((f) => f.data?.type === 'skald_status')!.id!, new RegExp(`^${hub.bootId}-\\d+$`))
    await waitFor(() => c.frames.some((f) => f.comment === 'keepalive'), 'a keep-alive comment')
    const t = await open('/api/events/tasks')
    await waitFor(() => t.frames.length >= 1, 'the task greeting')
    assert.deepEqual(t.frames[0]!.data, { type: 'connection', message: 'Connected to Task events' })
  })

  void it('filters: ?skald_id= on skalds, ?task_id= and ?skald_id= (the executor) on tasks', async () => {
    const a = await open('/api/events/skalds?skald_id=A')
    const t = await open('/api/events/tasks?task_id=T')
    const onA = await open('/api/events/tasks?skald_id=A')
    await waitFor(() => a.frames.length && t.frames.length && onA.frames.length, 'the greetings')
    hub.publish('skalds', { type: 'skald_status', skaldId: 'B', data: { status: 'online', taskCount: 0 }, timestamp: 1 })
    hub.publish('skalds', { type: 'skald_status', skaldId: 'A', data: { status: 'online', taskCount: 0 }, timestamp: 1 })
    hub.publish('tasks', progress('U', 1), 'A')
    hub.publish('tasks', progress('T', 2), 'B')
    await waitFor(() => a.events().length === 1 && t.events().length === 1 && onA.events().length === 1, 'the filtered events')
    assert.equal(a.events()[0]!.skaldId, 'A')
    assert.deepEqual(values(t.events()), [2])
    assert.deepEqual(values(onA.events()), [1])
  })

  void it('resume after a dropped connection (header and ?lastEventId=): every event once; a foreign id gets a resync', async () => {
    const first = await open('/api/events/tasks?task_id=R')
    await waitFor(() => first.frames.length, 'the greeting')
    for (let v = 1; v <= 3; v++) hub.publish('tasks', progress('R', v))
    await waitFor(() => first.events().length === 3, 'three events')
    const last = first.frames.at(-1)!.id!
    first.close()
    for (let v = 4; v <= 6; v++) hub.publish('tasks', progress('R', v))
    const again = await open('/api/events/tasks?task_id=R', { 'last-event-id': last })
    const byQuery = await open(`/api/events/tasks?task_id=R&lastEventId=${encodeURIComponent(last)}`)
    hub.publish('tasks', progress('R', 7))
    await waitFor(() => values(again.events()).length === 4 && values(byQuery.events()).length === 4, 'replay then live')
    assert.deepEqual(values([...first.events(), ...again.events()]), [1, 2, 3, 4, 5, 6, 7])
    assert.deepEqual(values(byQuery.events()), [4, 5, 6, 7])
    const other = new LiveHub()
    const foreign = await open('/api/events/tasks', { 'last-event-id': other.publish('tasks', progress('R', 1)) })
    await waitFor(() => foreign.frames.length >= 2, 'the resync frame')
    assert.equal(foreign.frames[1]!.data!.type, 'resync')
    assert.equal(foreign.frames[1]!.data!.reason, 'foreign')
    assert.equal(foreign.frames[1]!.id, hub.stats().lastEventId)
  })

  void it('the eventsource client reconnects by itself after the server drops it, and misses nothing', async () => {
    const source = new EventSource(`${server.base}/api/events/tasks?task_id=E`)
    const got: number[] = []
    source.onmessage = (m) => {
      const e = JSON.parse(m.data as string) as Record<string, unknown>
      if (e.type === 'task_progress') got.push((e.data as { value: number }).value)
    }
    await waitFor(() => source.readyState === EventSource.OPEN, 'open')
    const replayedBefore = hub.stats().eventsReplayed
    let v = 0
    const timer = setInterval(() => hub.publish('tasks', progress('E', ++v)), 20)
    try {
      await waitFor(() => got.length >= 5, 'a few events')
      for (const s of server.sockets) s.destroy() // the network drops every connection
      const atDrop = v
      await waitFor(() => source.readyState !== EventSource.OPEN, 'the drop seen')
      await waitFor(() => got.length >= atDrop + 10 && source.readyState === EventSource.OPEN, 'reconnected and live again', 15_000)
    } finally {
      clearInterval(timer)
      source.close()
    }
    assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1))
    assert.ok(hub.stats().eventsReplayed > replayedBefore, 'the gap came from the replay ring')
  })

  void it('a bad query parameter is a 400 naming the field; unknown ones pass', async () => {
    for (const path of ['/api/events/skalds?skald_id=', '/api/events/tasks?task_id=a&task_id=b', `/api/events/tasks?lastEventId=${'x'.repeat(200)}`]) {
      const { status, body } = await json(server.base, path)
      assert.equal(status, 400, path)
      assert.match(String(body.message), /skald_id|task_id|lastEventId/)
    }
    // Unknown parameters pass: the app's token (?access_token=, for EventSource) and cache busters.
    const ok = await open('/api/events/skalds?access_token=0123456789abcdef&_=1')
    assert.equal(ok.res.statusCode, 200)
  })

  void it('/status counts clients per stream; /test streams Python test messages', async () => {
    const t = await open('/api/events/test')
    await waitFor(() => t.frames.length >= 2, 'two test messages')
    assert.deepEqual({ ...t.frames[1]!.data, timestamp: 0 }, { type: 'test', message: 'Test message 2', timestamp: 0 })
    const { status, body } = await json(server.base, '/api/events/status')
    assert.equal(status, 200)
    assert.equal(body.status, 'active')
    const clients = body.clients as Record<string, number>
    assert.equal(clients.test, 1)
    assert.equal(body.connectedClients, clients.skalds! + clients.tasks! + 1)
    assert.equal(clients.skalds, hub.clientCount('skalds'))
    t.close()
    await waitFor(async () => ((await json(server.base, '/api/events/status')).body.clients as Record<string, number>).test === 0, 'the test client gone')
  })
})

void it('a client that stops reading is dropped; the others receive everything, and publish never waits', async () => {
  const hub = new LiveHub({ clientMaxQueuedBytes: 256 * 1024 })
  const { app, base } = await serve(hub)
  const fast = [await sse(base, '/api/events/tasks'), await sse(base, '/api/events/tasks')]
  // A client that sends its request and then never reads: the kernel buffers fill, then the server's queue.
  const slow = tcpConnect(Number(new URL(base).port), '127.0.0.1')
  slow.on('error', () => {})
  slow.write('GET /api/events/tasks HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n')
  await waitFor(() => hub.clientCount('tasks') === 3, 'three clients')
  slow.pause()
  const line = 'x'.repeat(16 * 1024)
  let published = 0
  let slowest = 0
  while (hub.stats().droppedClients === 0 && published < 4000) {
    const started = performance.now()
    hub.publish('tasks', { type: 'task_log', taskId: 'L', data: { lines: [line] }, timestamp: published++ })
    slowest = Math.max(slowest, performance.now() - started)
    if (published % 8 === 0) await new Promise((r) => setImmediate(r)) // let the fast clients read
  }
  assert.equal(hub.stats().droppedClients, 1, `dropped after ${published} events of 16 KiB`)
  await waitFor(() => fast.every((c) => c.events().length === published), 'the fast clients to get every event', 30_000)
  assert.equal(hub.clientCount('tasks'), 2)
  assert.ok(slowest < 50, `one publish took ${slowest.toFixed(1)} ms`)
  console.log(`slow client dropped after ${published} events (${((published * 16) / 1024).toFixed(1)} MiB), slowest publish ${slowest.toFixed(2)} ms`)
  slow.destroy()
  for (const c of fast) c.close()
  // preClose ends open streams: close does not wait for the clients.
  const other = await sse(base, '/api/events/skalds')
  const closing = performance.now()
  await app.close()
  assert.ok(performance.now() - closing < 5000)
  other.close()
})

void describe('sources on Redis', () => {
  const prefix = uniquePrefix('live-events')
  let connection: RedisConnection
  before(async () => {
    connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  })
  after(async () => {
    await deleteKeysWithPrefix(connection, prefix)
    await connection.close()
  })

  void it("a node's registration and heartbeat, a task's progress, log and failure become events on the stream", async () => {
    const backend = createRedisSkaldStateBackend(connection)
    const reader = createSkaldStateReader(backend)
    const publisher = createSkaldStatePublisher(backend, { periodMs: 100 })
    const monitor = new NodeMonitor({ reader, logger: silentLogger })
    const hub = new LiveHub()
    const task = { id: 'live-T1', executor: 'live-n1', lifecycleStatus: 'Running' as const }
    const sources = createLiveSources({ hub, reader, nodes: () => monitor.nodes.values(), activeTaskIds: () => [task], intervalMs: 50 })
    const { app, base } = await serve(hub)
    try {
      const skalds = await sse(base, '/api/events/skalds?skald_id=live-n1')
      const tasks = await sse(base, '/api/events/tasks?skald_id=live-n1')
      await publisher.register({ skaldId: 'live-n1', mode: 'node', classNames: ['C'] })
      await publisher.startRun({ taskId: 'live-T1', className: 'C', epoch: 1 })
      await monitor.cycle()
      sources.start()
      await waitFor(() => skalds.events().some((e) => e.type === 'skald_status'), 'skald_status')
      assert.deepEqual(skalds.events().find((e) => e.type === 'skald_status')!.data, { status: 'online', taskCount: 1 })
      await waitFor(() => tasks.events().some((e) => e.type === 'task_heartbeat'), 'task_heartbeat')
      publisher.progress('live-T1', 1, 25, 'a quarter')
      publisher.log('live-T1', 1, ['started', 'working'])
      await publisher.tick()
      await waitFor(() => tasks.events().some((e) => e.type === 'task_log'), 'task_progress and task_log')
      assert.deepEqual(tasks.events().find((e) => e.type === 'task_progress')!.data, { value: 25, message: 'a quarter' })
      assert.deepEqual(tasks.events().find((e) => e.type === 'task_log')!.data, { lines: ['started', 'working'] })
      await publisher.endRun('live-T1', 1, { status: 'failed', message: 'it broke' })
      await waitFor(() => tasks.events().some((e) => e.type === 'task_exception'), 'task_exception')
      assert.deepEqual(tasks.events().find((e) => e.type === 'task_exception')!.data, { exception: 'it broke', lifecycleStatus: 'Running' })
      // On change only: a quiet task publishes nothing more.
      const count = tasks.events().length
      await sources.tick()
      await sources.tick()
      assert.equal(tasks.events().length, count)
      assert.equal(tasks.events().filter((e) => e.type === 'task_log').length, 1)
      skalds.close()
      tasks.close()
    } finally {
      await sources.stop()
      await publisher.close()
      await app.close()
    }
  })
})
