// GET /metrics: the controller's Prometheus metrics in the text exposition format.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { ControllerMetrics } from '../../metrics.ts'

export const metricsRoutes: FastifyPluginAsyncZod<{ metrics: ControllerMetrics }> = (app, { metrics }) => {
  app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics (text exposition format)' } }, async (_request, reply) => {
    const text = await metrics.text()
    return reply.type(metrics.registry.contentType).send(text)
  })
  return Promise.resolve()
}
