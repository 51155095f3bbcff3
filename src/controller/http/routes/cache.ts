// /api/cache: the task caches' statistics and manual invalidation (all, one task, one Skald), as seed 001 asks.
// Invalidation reaches every controller: the entries live in the shared Redis.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { TaskCaches } from '../../task-cache/api.ts'
import { errorSchema, skaldParams, taskParams } from '../schemas.ts'

const invalidated = z.object({ success: z.boolean(), message: z.string(), data: z.object({ scope: z.string(), confirmed: z.boolean() }) })

export const cacheRoutes: FastifyPluginAsyncZod<{ caches: TaskCaches }> = (app, { caches }) => {
  app.get(
    '/stats',
    { schema: { tags: ['cache'], summary: 'Keys per cache type, Redis memory, hit rates, connection state', response: { 200: z.record(z.string(), z.unknown()) } } },
    async () => (await caches.cacheStats()) as unknown as Record<string, unknown>,
  )
  const answer = (scope: string, confirmed: boolean) => ({
    success: true,
    message: confirmed ? `task caches invalidated: ${scope}` : `task caches: invalidation of ${scope} not confirmed by Redis; reads go to the store until it is`,
    data: { scope, confirmed },
  })
  app.delete('/', { schema: { tags: ['cache'], summary: 'Invalidate every task cache entry', response: { 200: invalidated } } }, async () => answer('all', await caches.invalidateAll()))
  app.delete('/tasks/:task_id', { schema: { tags: ['cache'], summary: "Invalidate one task's entries (and the lists and statistics)", params: taskParams, response: { 200: invalidated, 400: errorSchema } } }, async (request) =>
    answer(`task ${request.params.task_id}`, await caches.invalidateTask(request.params.task_id)),
  )
  app.delete('/skalds/:skald_id', { schema: { tags: ['cache'], summary: "Invalidate one Skald's task list", params: skaldParams, response: { 200: invalidated, 400: errorSchema } } }, async (request) =>
    answer(`skald ${request.params.skald_id}`, await caches.invalidateSkald(request.params.skald_id)),
  )
  return Promise.resolve()
}
