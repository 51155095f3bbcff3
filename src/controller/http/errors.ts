// One error shape for every response of the controller's API, and the errors its routes raise. The body keeps
// Python Skalds' keys (`error` = the detail, `status_code`, `path`: wire §6.7) and adds a stable `code` and, for bad
// input, every `{ field, reason }`. Stack traces and causes stay in the log, never in a response.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { SkaldsError } from '../../model/errors.ts'
import { AttachmentsInvalidError } from '../attachment-check.ts'

export interface ApiErrorBody {
  /** what went wrong, with the detail (which task, which field) */
  error: string
  /** stable machine code, e.g. `E_TASK_NOT_FOUND` */
  code: string
  status_code: number
  path: string
  /** bad input: each field and why */
  details?: { field: string; reason: string }[]
}

/** A Skald id the controller does not know (never registered, or its registration expired). */
export class SkaldNotFoundError extends SkaldsError {
  constructor(skaldId: string) {
    super('E_SKALD_NOT_FOUND', `skald ${JSON.stringify(skaldId)} is not known (never registered, or its registration expired)`)
  }
}

/** A request without the API token, or with a wrong one. */
export class ApiAuthError extends SkaldsError {
  constructor(message: string) {
    super('E_UNAUTHORIZED', message)
  }
}

/** Input the route schema could not express (e.g. a body that must name at least one filter). */
export class ApiInputError extends SkaldsError {
  readonly field: string
  constructor(field: string, reason: string) {
    super('E_INVALID_INPUT', `${field}: ${reason}`)
    this.field = field
  }
}

/** Something the controller was started without (no Redis state, no bus) that the request needs. */
export class FeatureUnavailableError extends SkaldsError {
  constructor(message: string) {
    super('E_UNAVAILABLE', message)
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  E_TASK_NOT_FOUND: 404,
  E_SKALD_NOT_FOUND: 404,
  E_ROUTE_NOT_FOUND: 404,
  E_TASK_EXISTS: 409,
  E_TASK_CONFLICT: 409,
  E_TASK_STATE: 409,
  E_TASK_INVALID: 400,
  E_TASK_QUERY_INVALID: 400,
  E_INVALID_INPUT: 400,
  E_INVALID_ARGUMENT: 400,
  E_ATTACHMENTS_INVALID: 400,
  E_UNAUTHORIZED: 401,
  E_RATE_LIMITED: 429,
  E_STORE_UNAVAILABLE: 503,
  E_REDIS_UNAVAILABLE: 503,
  E_REDIS_TIMEOUT: 503,
  E_CIRCUIT_OPEN: 503,
  E_BUS_UNAVAILABLE: 503,
  E_UNAVAILABLE: 503,
  E_NOT_LEADER: 503,
}

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' }

export function errorBody(request: FastifyRequest, status: number, code: string, error: string, details?: ApiErrorBody['details']): ApiErrorBody {
  return { error, code, status_code: status, path: request.url.split('?')[0] ?? request.url, ...(details ? { details } : {}) }
}

/** `/attachments/name` → `attachments.name`; the root → `body` / `query` / `params`. */
function fieldOf(context: string | undefined, instancePath: string): string {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.')
  return path === '' ? (context ?? 'request') : path
}

function validationDetails(error: FastifyError): ApiErrorBody['details'] {
  const context = (error as FastifyError & { validationContext?: string }).validationContext
  if (hasZodFastifySchemaValidationErrors(error)) {
    return error.validation.map((v) => ({ field: fieldOf(context, v.instancePath), reason: v.message ?? 'invalid' }))
  }
  return (error.validation ?? []).map((v) => ({ field: fieldOf(context, v.instancePath), reason: v.message ?? 'invalid' }))
}

/** Installs the error and not-found handlers on `app` (call before registering routes). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const status = 404
    return reply.code(status).send(errorBody(request, status, 'E_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}; the API is described at /api/docs`))
  })
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation) {
      const details = validationDetails(error) ?? []
      const first = details[0]
      return reply.code(400).send(errorBody(request, 400, 'E_INVALID_INPUT', first ? `${first.field}: ${first.reason}` : error.message, details))
    }
    if (error instanceof SkaldsError) {
      const status = STATUS_BY_CODE[error.code] ?? 500
      if (status >= 500) request.log.error({ err: error }, 'request failed')
      if (error.code === 'E_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer')
      const details =
        error instanceof ApiInputError
          ? [{ field: error.field, reason: error.message.slice(error.field.length + 2) }]
          : error instanceof AttachmentsInvalidError
            ? error.issues.map(({ field, reason }) => ({ field, reason }))
            : undefined
      return reply.code(status).send(errorBody(request, status, error.code, status >= 500 && status !== 503 ? 'an unexpected error occurred' : error.message, details))
    }
    // Fastify's own errors (bad JSON, body too large, unsupported media type) carry a 4xx statusCode and a code.
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(500).send(errorBody(request, 500, 'E_INTERNAL', 'an unexpected error occurred; the controller log has the detail'))
    }
    const code = error.code && error.code.startsWith('FST_') ? error.code : `E_HTTP_${status}`
    return reply.code(status).send(errorBody(request, status, code, `${TITLES[status] ?? 'Bad Request'}: ${error.message}`))
  })
}
