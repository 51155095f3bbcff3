// /api/events: the live streams as Server-Sent Events (wire §6.6, §6.8, §8.3 D13). Frames keep the Python
// controller's shape (`data: <json>`, same payloads, a `connection` message first) and add what EventSource uses
// and ignores otherwise: `id:` lines for resuming, `:keepalive` comments. Registered by the app under a prefix.
//
// @fastify/sse does the route gating (Accept negotiation), the SSE headers, Last-Event-ID and the close callbacks.
// Its `send` is bypassed for the hub's events: it awaits 'drain' per message, so a client that stops reading
// would pile up pending sends (and listeners) without bound, and the hub must publish synchronously. The hub
// writes to the raw response itself, with a bounded queue per client. Its per-connection heartbeat timer is off
// too: one timer per plugin writes the keep-alive, through the same queue, so it never jumps the backpressure.
import { fastifySSE } from '@fastify/sse'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { LiveFilter, LiveStream } from '../../live/events.ts'
import type { LiveConnection, LiveHub } from '../../live/hub.ts'

/** Options of {@link eventsRoutes}. */
export interface EventsRoutesOptions {
  /** the hub whose streams these routes serve */
  hub: LiveHub
  /** how often an idle connection gets a `:keepalive` comment, ms; default 15000 (below common 30–60 s proxy idle timeouts) */
  keepAliveMs?: number
  /** period of the `/test` stream's messages, ms; default 5000 (Python's) */
  testIntervalMs?: number
}

const id = z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters')
const lastEventId = z.string().max(128, 'must be at most 128 characters').optional().describe('resume after this event id, for clients that cannot send the Last-Event-ID header (the header wins)')
const skaldsQuery = z.object({ skald_id: id.optional().describe('only this Skald'), lastEventId })
const tasksQuery = z.object({ task_id: id.optional().describe('only this task'), skald_id: id.optional().describe("only tasks whose executor is this Skald"), lastEventId })
const statusResponse = z.object({
  connectedClients: z.number().int().describe('open connections on every stream, /test included'),
  timestamp: z.number().int().describe('epoch ms'),
  status: z.literal('active'),
  clients: z.object({ skalds: z.number().int(), tasks: z.number().int(), test: z.number().int() }),
  droppedClients: z.number().int().describe('clients dropped because they fell behind past their queue bound'),
  eventsPublished: z.number().int(),
  eventsReplayed: z.number().int().describe('events sent again to clients resuming with Last-Event-ID'),
  resyncs: z.number().int().describe('resuming clients told to reload (foreign or expired id)'),
  lastEventId: z.string(),
})

const SSE_ROUTE = { kind: 'only', heartbeat: false } as const
const streamNote = 'Server-Sent Events (text/event-stream): `id:` + `data: <json>` frames, `:keepalive` comments. Resume with Last-Event-ID (or ?lastEventId=); an id from another controller run, or too old, gets {"type":"resync"}: reload the state.'

function positive(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`eventsRoutes ${field}: must be a positive integer (ms), got ${String(value)}`)
  return value
}

/**
 * The live-event routes (`GET /skalds`, `/tasks`, `/status`, `/test`) under the prefix the app registers them at
 * (`/api/events`). Needs the zod validator and serializer compilers on the app.
 */
export const eventsRoutes: FastifyPluginAsyncZod<EventsRoutesOptions> = async (app, options) => {
  const { hub } = options
  const keepAliveMs = positive('keepAliveMs', options.keepAliveMs ?? 15_000)
  const testIntervalMs = positive('testIntervalMs', options.testIntervalMs ?? 5000)
  // The app may have registered it already (for routes of its own); a second copy would wrap our handlers twice.
  if (!app.hasPlugin('@fastify/sse')) await app.register(fastifySSE, { heartbeatInterval: 0 })

  const connections = new Set<LiveConnection>()
  const testStreams = new Set<FastifyReply>()
  const keepAlive = setInterval(() => {
    for (const c of connections) c.comment('keepalive')
  }, keepAliveMs)
  keepAlive.unref()
  // Open streams would hold app.close() until every client leaves: end them first.
  app.addHook('preClose', (done) => {
    clearInterval(keepAlive)
    for (const c of connections) c.end()
    for (const reply of testStreams) reply.sse.close()
    done()
  })

  function attach(reply: FastifyReply, stream: LiveStream, filter: LiveFilter, queryId: string | undefined, greeting: string): void {
    reply.sse.keepAlive()
    reply.sse.sendHeaders()
    if (!reply.sse.isConnected) return // the client left before the handler ran
    const connection = hub.connect({ stream, filter, sink: reply.raw, lastEventId: reply.sse.lastEventId ?? queryId ?? null, greeting: { type: 'connection', message: greeting } })
    connections.add(connection)
    reply.sse.onClose(() => {
      connection.detach()
      connections.delete(connection)
    })
  }

  app.get(
    '/skalds',
    { sse: SSE_ROUTE, schema: { tags: ['events'], summary: 'Skald events: skald_status, skald_heartbeat', description: streamNote, querystring: skaldsQuery } },
    async (request, reply) => {
      const { skald_id: skaldId, lastEventId: queryId } = request.query
      attach(reply, 'skalds', skaldId === undefined ? {} : { skaldId }, queryId, 'Connected to Skalds events')
      return Promise.resolve()
    },
  )

  app.get(
    '/tasks',
    {
      sse: SSE_ROUTE,
      schema: {
        tags: ['events'],
        summary: 'Task events: task_heartbeat, task_error, task_exception (as Python), task_status, task_progress, task_log',
        description: streamNote,
        querystring: tasksQuery,
      },
    },
    async (request, reply) => {
      const { task_id: taskId, skald_id: skaldId, lastEventId: queryId } = request.query
      const filter: LiveFilter = {}
      if (taskId !== undefined) filter.taskId = taskId
      if (skaldId !== undefined) filter.skaldId = skaldId
      attach(reply, 'tasks', filter, queryId, 'Connected to Task events')
      return Promise.resolve()
    },
  )

  app.get('/status', { schema: { tags: ['events'], summary: 'Connected clients and event counters', response: { 200: statusResponse } } }, async () => {
    const s = hub.stats()
    const clients = { skalds: s.clients.skalds, tasks: s.clients.tasks, test: testStreams.size }
    return Promise.resolve({
      connectedClients: clients.skalds + clients.tasks + clients.test,
      timestamp: Date.now(),
      status: 'active' as const,
      clients,
      droppedClients: s.droppedClients,
      eventsPublished: s.eventsPublished,
      eventsReplayed: s.eventsReplayed,
      resyncs: s.resyncs,
      lastEventId: s.lastEventId,
    })
  })

  app.get(
    '/test',
    { sse: SSE_ROUTE, schema: { tags: ['events'], summary: `A test stream: {"type":"test","message":"Test message N","timestamp"} at once, then every ${testIntervalMs} ms` } },
    async (_request, reply) => {
      reply.sse.keepAlive()
      reply.sse.sendHeaders()
      if (!reply.sse.isConnected) return
      testStreams.add(reply)
      let n = 0
      let pending = false
      // The library's send is fine at one message per period; a message still waiting for 'drain' skips the next.
      const send = (): void => {
        if (pending || !reply.sse.isConnected) return
        pending = true
        reply.sse
          .send({ data: { type: 'test', message: `Test message ${++n}`, timestamp: Date.now() } })
          .catch(() => undefined)
          .finally(() => {
            pending = false
          })
      }
      send()
      const timer = setInterval(send, testIntervalMs)
      reply.sse.onClose(() => {
        clearInterval(timer)
        testStreams.delete(reply)
      })
    },
  )
  return Promise.resolve()
}
