// The controller's HTTP face as one Fastify app: one plugin per concern (errors, token, CORS, rate limit, OpenAPI,
// then one per route group), every route with a zod schema that validates it and documents it at /api/docs.
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { rateLimitPlugin, type RateLimitPluginOptions } from '../../coordination/rate-limit/fastify-plugin.ts'
import { installApiAuth } from './auth.ts'
import { createDashboard, isDashboardRequest, wantsHtml } from './dashboard.ts'
import type { ControllerApiDeps } from './deps.ts'
import { errorBody, installErrorHandlers } from './errors.ts'
import { skaldRoutes } from './routes/skalds.ts'
import { systemRoutes } from './routes/system.ts'
import { taskRoutes } from './routes/tasks.ts'
import { ApiOptionsError, parseApiOptions, type ControllerApiOptions } from './options.ts'

export { ApiOptionsError, type ControllerApiOptions }

/** A route group the composition adds (live events, cache administration, metrics), registered after the core. */
export type ApiExtension = (app: FastifyInstance) => Promise<void>

/**
 * Builds the API (not listening: call `app.listen`). Options are checked first: a bad one throws ApiOptionsError
 * naming the field.
 */
export async function buildControllerApi(deps: ControllerApiDeps, options: ControllerApiOptions = {}, extensions: readonly ApiExtension[] = []): Promise<FastifyInstance> {
  const o = parseApiOptions(options)
  const app = Fastify({
    logger: o.logLevel === 'silent' ? false : { name: 'skalds:api', level: o.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    bodyLimit: o.bodyLimitBytes,
    trustProxy: o.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed URL or content type) get the one error shape too.
    frameworkErrors: (error, request, reply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 400
      // The reply here is not yet typed by any route schema; the body is the one error shape.
      const raw = reply as unknown as { code(n: number): { send(body: unknown): void } }
      raw.code(status).send(errorBody(request, status, error.code, `${status === 400 ? 'Bad Request' : 'Unsupported request'}: ${error.message}`))
    },
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  installErrorHandlers(app)
  const dashboard = o.dashboard ? createDashboard(o.dashboard) : undefined
  installApiAuth(app, { token: o.token, strict: o.strict, ...(dashboard ? { isPublic: isDashboardRequest } : {}) })
  if (o.cors) await app.register(cors, { origin: o.cors.origins === '*' ? '*' : o.cors.origins, credentials: o.cors.credentials, methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'] })
  if (o.rateLimit) {
    // A live-event stream is one long request, and EventSource gives up for good on a 429: streams are not counted.
    const { skip } = o.rateLimit
    await app.register(rateLimitPlugin, { ...o.rateLimit, skip: (request) => request.url.startsWith('/api/events/') || (skip?.(request) ?? false) } satisfies RateLimitPluginOptions)
  }
  if (o.docs) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Skalds System Controller API', version: deps.version, description: 'Tasks, Skalds, live events and system status of a Skalds deployment.' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        ...(o.token ? { security: [{ bearer: [] }] } : {}),
      },
      transform: jsonSchemaTransform,
      // fills components.schemas with the schemas named by .meta({ id }) (Task, Skald, Error), which the routes $ref
      transformObject: jsonSchemaTransformObject,
    })
    await app.register(swaggerUi, { routePrefix: '/api/docs' })
    app.get('/api/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()))
  }

  // Browsers (Accept: text/html) get the dashboard here; scripts keep the JSON.
  app.get(
    '/',
    { schema: { tags: ['system'], summary: 'What this server is (JSON); the dashboard to a client that accepts text/html', response: { 200: z.record(z.string(), z.unknown()) } } },
    (request, reply) => {
      if (dashboard && wantsHtml(request)) return void dashboard.page(request, reply)
      return Promise.resolve({ name: 'Skalds SystemController', version: deps.version, mode: deps.mode, status: 'running', endpoints: { api: '/api', docs: o.docs ? '/api/docs' : null, dashboard: dashboard ? '/dashboard' : null } })
    },
  )
  if (dashboard) await dashboard.register(app)
  app.get('/api', { schema: { tags: ['system'], summary: 'The route groups', response: { 200: z.record(z.string(), z.unknown()) } } }, () =>
    Promise.resolve({ name: 'SystemController API', version: deps.version, endpoints: { tasks: '/api/tasks', skalds: '/api/skalds', events: '/api/events', system: '/api/system' } }),
  )
  await app.register(taskRoutes, { prefix: '/api/tasks', deps })
  await app.register(skaldRoutes, { prefix: '/api/skalds', deps })
  await app.register(systemRoutes, { prefix: '/api/system', deps })
  for (const extend of extensions) await extend(app)
  return app
}
