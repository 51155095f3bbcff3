// /api/skalds: the Skalds as the control plane's node monitor sees them (wire §6.6 shapes). A controller without
// Redis state knows no Skald: the lists are empty and every id is a 404.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { NodeView } from '../../node-monitor.ts'
import type { ControllerApiDeps } from '../deps.ts'
import { SkaldNotFoundError } from '../errors.ts'
import { errorSchema, skaldListQuery, skaldParams, skaldResponse, successResponse, type SkaldResponse } from '../schemas.ts'

const errors = { 400: errorSchema, 404: errorSchema }

export function toSkaldResponse(n: NodeView): SkaldResponse {
  return {
    id: n.id,
    type: n.mode,
    status: n.online ? 'online' : 'offline',
    lastHeartbeat: n.activityMs ?? 0,
    supportedTasks: n.classNames,
    currentTasks: n.taskIds,
    heartbeat: n.heartbeat,
    taskCount: n.taskIds.length,
    load: n.load
      ? { capacity: n.load.capacity, running: n.load.running, draining: n.load.draining, cpuPercent: n.load.cpuPercent, rssMb: n.load.rssMb, classes: n.load.classes }
      : null,
  }
}

/** Whether a Skald takes more work: online, node mode, not draining, below its capacity. */
export function canAcceptTasks(n: NodeView): boolean {
  if (!n.online || n.mode !== 'node' || n.load?.draining) return false
  const capacity = n.load?.capacity
  return capacity === null || capacity === undefined || (n.load?.running ?? n.taskIds.length) < capacity
}

/** The counts over the Skalds that the summary routes show (Python's definitions: running = tasks online Skalds say they run). */
export interface FleetCounts {
  total: number
  online: number
  nodes: number
  edges: number
  onlineNodes: number
  onlineEdges: number
  /** online node-mode Skalds that take more work */
  available: number
  busy: number
  idle: number
  running: number
  /** running / online Skalds, 2 decimals */
  averagePerOnline: number
  /** running tasks per online Skald */
  distribution: Record<string, number>
}

export function fleetCounts(nodes: readonly NodeView[]): FleetCounts {
  const online = nodes.filter((n) => n.online)
  const onlineNodes = online.filter((n) => n.mode === 'node')
  const running = online.reduce((sum, n) => sum + n.taskIds.length, 0)
  return {
    total: nodes.length,
    online: online.length,
    nodes: nodes.filter((n) => n.mode === 'node').length,
    edges: nodes.filter((n) => n.mode === 'edge').length,
    onlineNodes: onlineNodes.length,
    onlineEdges: online.length - onlineNodes.length,
    available: onlineNodes.filter(canAcceptTasks).length,
    busy: onlineNodes.filter((n) => n.taskIds.length > 0).length,
    idle: onlineNodes.filter((n) => n.taskIds.length === 0).length,
    running,
    averagePerOnline: online.length === 0 ? 0 : Math.round((running / online.length) * 100) / 100,
    distribution: Object.fromEntries(online.map((n) => [n.id, n.taskIds.length])),
  }
}

export function nodesOf(deps: ControllerApiDeps): NodeView[] {
  const nodes = deps.plane?.nodes?.nodes
  return nodes ? [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : []
}

export const skaldRoutes: FastifyPluginAsyncZod<{ deps: ControllerApiDeps }> = (app, { deps }) => {
  function mustGet(id: string): NodeView {
    const node = deps.plane?.nodes?.nodes.get(id)
    if (!node) throw new SkaldNotFoundError(id)
    return node
  }

  app.get('/', { schema: { tags: ['skalds'], summary: 'The Skalds, sorted by id', querystring: skaldListQuery, response: { 200: z.object({ items: z.array(skaldResponse), total: z.number().int() }), ...errors } } }, (request) => {
    const { type, status } = request.query
    const items = nodesOf(deps)
      .filter((n) => (type === undefined || n.mode === type) && (status === undefined || (status === 'online') === n.online))
      .map(toSkaldResponse)
    return Promise.resolve({ items, total: items.length })
  })

  app.get(
    '/summary/statistics',
    {
      schema: {
        tags: ['skalds'],
        summary: 'Counts over the Skalds',
        response: {
          200: z.object({
            totalSkalds: z.number().int(),
            onlineSkalds: z.number().int(),
            offlineSkalds: z.number().int(),
            nodeSkalds: z.number().int(),
            edgeSkalds: z.number().int(),
            availableNodes: z.number().int(),
            totalRunningTasks: z.number().int(),
            averageTasksPerSkald: z.number(),
            details: z.object({ onlineNodes: z.number().int(), onlineEdges: z.number().int(), busyNodes: z.number().int(), idleNodes: z.number().int() }),
          }),
        },
      },
    },
    () => {
      const f = fleetCounts(nodesOf(deps))
      return Promise.resolve({
        totalSkalds: f.total,
        onlineSkalds: f.online,
        offlineSkalds: f.total - f.online,
        nodeSkalds: f.nodes,
        edgeSkalds: f.edges,
        availableNodes: f.available,
        totalRunningTasks: f.running,
        averageTasksPerSkald: f.averagePerOnline,
        details: { onlineNodes: f.onlineNodes, onlineEdges: f.onlineEdges, busyNodes: f.busy, idleNodes: f.idle },
      })
    },
  )

  app.get('/:skald_id', { schema: { tags: ['skalds'], summary: 'One Skald', params: skaldParams, response: { 200: skaldResponse, ...errors } } }, (request) =>
    Promise.resolve(toSkaldResponse(mustGet(request.params.skald_id))),
  )

  app.get(
    '/:skald_id/tasks',
    {
      schema: {
        tags: ['skalds'],
        summary: 'The tasks a Skald runs (as it says) and the stored tasks assigned to it',
        params: skaldParams,
        response: {
          200: z.object({
            skaldId: z.string(),
            tasks: z.array(z.object({ id: z.string(), className: z.string(), assignedAt: z.number().int() })),
            totalTasks: z.number().int(),
            assigned: z.array(z.object({ id: z.string(), className: z.string(), lifecycleStatus: z.string(), updateDateTime: z.number().int() })),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const node = mustGet(request.params.skald_id)
      const stored = await deps.reads.skaldTasks(node.id)
      const byId = new Map(stored.map((t) => [t.id, t]))
      // Python reports the Skald's update time as assignedAt; ours is when the task was last written (assigned).
      const tasks = node.tasks.map((t) => ({ id: t.id, className: t.className, assignedAt: byId.get(t.id)?.updateDateTime ?? node.activityMs ?? 0 }))
      const assigned = stored.map((t) => ({ id: t.id, className: t.className, lifecycleStatus: t.lifecycleStatus, updateDateTime: t.updateDateTime }))
      return { skaldId: node.id, tasks, totalTasks: tasks.length, assigned }
    },
  )

  app.get(
    '/:skald_id/status',
    {
      schema: {
        tags: ['skalds'],
        summary: "A Skald's status in detail",
        params: skaldParams,
        response: {
          200: z.object({
            skaldId: z.string(),
            status: z.enum(['online', 'offline']),
            type: z.enum(['node', 'edge']),
            heartbeat: z.number().int(),
            lastUpdate: z.number().int(),
            taskCount: z.number().int(),
            isOnline: z.boolean(),
            uptime: z.null(),
            details: z.object({ canAcceptTasks: z.boolean(), lastHeartbeatAge: z.number().int(), tasks: z.array(z.object({ id: z.string(), className: z.string() })) }),
          }),
          ...errors,
        },
      },
    },
    (request) => {
      const n = mustGet(request.params.skald_id)
      return Promise.resolve({
        skaldId: n.id,
        status: n.online ? ('online' as const) : ('offline' as const),
        type: n.mode,
        heartbeat: n.heartbeat,
        lastUpdate: n.activityMs ?? 0,
        taskCount: n.taskIds.length,
        isOnline: n.online,
        uptime: null,
        details: { canAcceptTasks: canAcceptTasks(n), lastHeartbeatAge: Math.max(0, Date.now() - (n.activityMs ?? 0)), tasks: n.tasks.map((t) => ({ id: t.id, className: t.className })) },
      })
    },
  )

  app.get(
    '/:skald_id/heartbeat',
    {
      schema: {
        tags: ['skalds'],
        summary: "A Skald's heartbeat",
        params: skaldParams,
        response: { 200: z.object({ skaldId: z.string(), heartbeat: z.number().int(), lastUpdate: z.number().int(), heartbeatAge: z.number().int(), isOnline: z.boolean(), timestamp: z.number().int() }), ...errors },
      },
    },
    (request) => {
      const n = mustGet(request.params.skald_id)
      const now = Date.now()
      return Promise.resolve({ skaldId: n.id, heartbeat: n.heartbeat, lastUpdate: n.activityMs ?? 0, heartbeatAge: Math.max(0, now - (n.activityMs ?? 0)), isOnline: n.online, timestamp: now })
    },
  )

  app.post('/:skald_id/ping', { schema: { tags: ['skalds'], summary: 'Whether a Skald is online (its latest heartbeat; no message is sent to it)', params: skaldParams, response: { 200: successResponse, ...errors } } }, (request) => {
    const n = mustGet(request.params.skald_id)
    return Promise.resolve({ success: n.online, message: `Skalds ${n.id} is ${n.online ? 'online' : 'offline'}`, data: { skaldId: n.id, online: n.online, lastHeartbeat: n.activityMs ?? 0 } })
  })
  return Promise.resolve()
}
