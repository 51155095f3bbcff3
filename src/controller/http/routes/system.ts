// /api/system and the roots `/` and `/api`: health (checked for real), status, the dashboard summary, the public
// configuration, JSON metrics, analytics and version (wire §6.6 shapes, without Python's 500s on env-set modes).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { LIFECYCLE_STATUSES } from '../../../model/enums.ts'
import type { ControllerApiDeps } from '../deps.ts'
import { configResponse, errorSchema, hoursQuery } from '../schemas.ts'
import { canAcceptTasks, fleetCounts, nodesOf } from './skalds.ts'

const healthStatus = z.enum(['healthy', 'degraded', 'unhealthy'])
const count = z.number().int()

export const systemRoutes: FastifyPluginAsyncZod<{ deps: ControllerApiDeps }> = (app, { deps }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Redis, the store and the bus, each checked now: 200 when healthy or degraded, 503 when unhealthy',
        response: {
          200: z.object({ status: healthStatus, timestamp: count, services: z.record(z.string(), z.object({ status: healthStatus, latencyMs: z.number().optional(), error: z.string().optional() })) }),
          503: z.object({ status: healthStatus, timestamp: count, services: z.record(z.string(), z.object({ status: healthStatus, latencyMs: z.number().optional(), error: z.string().optional() })) }),
        },
      },
    },
    async (_request, reply) => {
      const report = await deps.health()
      return reply.code(report.status === 'unhealthy' ? 503 : 200).send(report)
    },
  )

  app.get(
    '/status',
    {
      schema: {
        tags: ['system'],
        summary: "The controller's parts and whether they run",
        response: {
          200: z.object({
            mode: z.string(),
            leader: z.boolean(),
            components: z.array(z.object({ name: z.string(), running: z.boolean(), details: z.record(z.string(), z.unknown()) })),
            uptime: z.number(),
            version: z.string(),
          }),
        },
      },
    },
    () => {
      const c = deps.config
      const nodes = nodesOf(deps)
      const monitors = deps.plane?.nodes !== undefined
      return Promise.resolve({
        mode: deps.mode,
        leader: deps.isLeader(),
        components: [
          { name: 'SkaldMonitor', running: monitors, details: { interval: c.monitorSkaldIntervalMs / 1000, monitored_skalds: nodes.length } },
          { name: 'TaskMonitor', running: monitors && deps.mode !== 'DISPATCHER', details: { interval: c.monitorTaskIntervalMs / 1000 } },
          {
            name: 'Dispatcher',
            running: monitors && deps.mode !== 'MONITOR' && c.engines.bus !== null,
            details: { interval: c.dispatcherIntervalMs / 1000, strategy: c.dispatcherStrategy, available_skalds: nodes.filter(canAcceptTasks).length, total_skald_tasks: nodes.reduce((s, n) => s + n.taskIds.length, 0) },
          },
          { name: 'SkaldStore', running: monitors, details: { totalSkalds: nodes.length, onlineSkalds: nodes.filter((n) => n.online).length } },
        ],
        uptime: Math.round((Date.now() - deps.startedAt) / 1000),
        version: deps.version,
      })
    },
  )

  app.get(
    '/dashboard/summary',
    {
      schema: {
        tags: ['system'],
        summary: 'Counts the dashboard shows: Skalds, and tasks by status',
        response: {
          200: z.object({
            totalSkalds: count,
            onlineSkalds: count,
            totalTasks: count,
            runningTasks: count,
            finishedTasks: count,
            failedTasks: count,
            assigningTasks: count,
            cancelledTasks: count,
            createdTasks: count,
            pausedTasks: count,
            nodeSkalds: count,
            edgeSkalds: count,
          }),
          503: errorSchema,
        },
      },
    },
    async () => {
      const counts = await deps.reads.countByStatus()
      const f = fleetCounts(nodesOf(deps))
      return {
        totalSkalds: f.total,
        onlineSkalds: f.online,
        totalTasks: LIFECYCLE_STATUSES.reduce((s, k) => s + counts[k], 0),
        runningTasks: counts.Running,
        finishedTasks: counts.Finished,
        failedTasks: counts.Failed,
        assigningTasks: counts.Assigning,
        cancelledTasks: counts.Cancelled,
        createdTasks: counts.Created,
        pausedTasks: counts.Paused,
        nodeSkalds: f.nodes,
        edgeSkalds: f.edges,
      }
    },
  )

  app.get('/config', { schema: { tags: ['system'], summary: 'The settings in force (never a secret)', response: { 200: configResponse } } }, () => {
    const c = deps.config
    return Promise.resolve({
      mode: deps.mode,
      host: c.host,
      port: c.port,
      monitoring: { skaldInterval: c.monitorSkaldIntervalMs / 1000, taskInterval: c.monitorTaskIntervalMs / 1000, heartbeatTimeout: c.heartbeatTimeoutMs / 1000 },
      dispatcher: { interval: c.dispatcherIntervalMs / 1000, strategy: c.dispatcherStrategy },
      environment: c.environment,
      logLevel: c.logLevel,
      engines: c.engines,
    })
  })

  app.get('/metrics', { schema: { tags: ['system'], summary: 'Counts over Skalds and tasks (JSON; Prometheus format at /metrics)', response: { 200: z.record(z.string(), z.unknown()) } } }, async () => {
    const counts = await deps.reads.countByStatus()
    const f = fleetCounts(nodesOf(deps))
    return {
      timestamp: Date.now(),
      skalds: { total: f.total, online: f.online, offline: f.total - f.online, nodes: f.nodes, edges: f.edges, availableNodes: f.available, busyNodes: f.busy, idleNodes: f.idle },
      tasks: {
        monitored: counts.Assigning + counts.Running,
        running: counts.Running,
        failed: counts.Failed,
        finished: counts.Finished,
        cancelled: counts.Cancelled,
        assigning: counts.Assigning,
        paused: counts.Paused,
        created: counts.Created,
        total: LIFECYCLE_STATUSES.reduce((s, k) => s + counts[k], 0),
        totalAssigned: f.running,
      },
      performance: {
        averageTasksPerSkald: f.averagePerOnline,
        taskDistribution: f.distribution,
        systemLoad: {
          skaldUtilization: f.total === 0 ? 0 : Math.round((f.online / f.total) * 100) / 100,
          nodeUtilization: f.onlineNodes === 0 ? 0 : Math.round((f.busy / f.onlineNodes) * 100) / 100,
        },
      },
    }
  })

  app.post(
    '/cleanup',
    { schema: { tags: ['system'], summary: 'Housekeeping now (the task caches)', response: { 200: z.object({ success: z.boolean(), message: z.string(), data: z.object({ timestamp: count, operations: z.array(z.string()) }) }) } } },
    async () => {
      const operations = await deps.cleanup()
      return { success: true, message: 'Cleanup completed', data: { timestamp: Date.now(), operations } }
    },
  )

  app.get(
    '/analytics/task-distribution',
    { schema: { tags: ['system'], summary: 'Tasks per status, with percentages', response: { 200: z.object({ distribution: z.array(z.object({ status: z.string(), count, percentage: z.number() })), timestamp: count }), 503: errorSchema } } },
    async () => {
      const counts = await deps.reads.countByStatus()
      const total = LIFECYCLE_STATUSES.reduce((s, k) => s + counts[k], 0)
      const distribution = LIFECYCLE_STATUSES.filter((s) => counts[s] > 0).map((status) => ({ status, count: counts[status], percentage: Math.round((counts[status] / total) * 10_000) / 100 }))
      return { distribution, timestamp: Date.now() }
    },
  )

  app.get(
    '/analytics/recent-activity',
    {
      schema: {
        tags: ['system'],
        summary: 'Tasks created, updated, finished and failed in the last hours',
        querystring: hoursQuery,
        response: { 200: z.object({ timeframe: z.string(), tasksCreated: count, tasksUpdated: count, tasksFinished: count, tasksFailed: count, successRate: z.number() }), 400: errorSchema, 503: errorSchema },
      },
    },
    async (request) => {
      const hours = request.query.hours
      const from = Date.now() - hours * 3_600_000
      const store = deps.store
      const [created, updated, finished, failed] = await Promise.all([
        store.count({ createdFrom: from }),
        store.count({ updatedFrom: from }),
        store.count({ updatedFrom: from, lifecycleStatus: 'Finished' }),
        store.count({ updatedFrom: from, lifecycleStatus: 'Failed' }),
      ])
      const ended = finished + failed
      return { timeframe: `Last ${hours} hours`, tasksCreated: created, tasksUpdated: updated, tasksFinished: finished, tasksFailed: failed, successRate: ended === 0 ? 0 : Math.round((finished / ended) * 10_000) / 100 }
    },
  )

  app.get('/version', { schema: { tags: ['system'], summary: 'Versions', response: { 200: z.record(z.string(), z.unknown()) } } }, () =>
    Promise.resolve({ version: deps.version, nodeVersion: process.versions.node, startedAt: deps.startedAt, dependencies: { fastify: app.version } }),
  )
  return Promise.resolve()
}
