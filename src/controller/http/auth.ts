// The API token: `Authorization: Bearer <token>`, compared in constant time. Without `strict`, only requests that
// change something (POST, PUT, PATCH, DELETE) need it; with `strict`, every request does. Browsers' EventSource
// cannot send headers, so the live-event streams also take `?access_token=` (the logger redacts it).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiAuthError } from './errors.ts'

export interface ApiAuthOptions {
  /** the token; undefined = no authentication (every request passes) */
  token: string | undefined
  /** require the token on every route, reads included; default false (mutating routes only) */
  strict?: boolean
  /** requests that never need the token (the dashboard's page and assets: they hold no data) */
  isPublic?: (request: FastifyRequest) => boolean
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

// Hashing both sides first gives equal-length buffers, so timingSafeEqual never leaks the token's length either.
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function presented(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    return match?.[1]
  }
  if (request.method === 'GET' && request.url.startsWith('/api/events/')) {
    const token = (request.query as Record<string, unknown> | undefined)?.access_token
    return typeof token === 'string' ? token : undefined
  }
  return undefined
}

/** Adds the token check as the first onRequest hook of `app` (before rate limiting and the routes). */
export function installApiAuth(app: FastifyInstance, options: ApiAuthOptions): void {
  if (options.token === undefined) return
  const expected = digest(options.token)
  const strict = options.strict === true
  const isPublic = options.isPublic
  app.addHook('onRequest', (request, _reply, done) => {
    if ((!strict && !MUTATING.has(request.method)) || request.method === 'OPTIONS') return done() // a CORS preflight carries no credentials by design
    if (isPublic?.(request)) return done()
    const token = presented(request)
    if (token === undefined) return done(new ApiAuthError('this route needs the API token: send "Authorization: Bearer <token>"'))
    if (!timingSafeEqual(digest(token), expected)) return done(new ApiAuthError('the API token does not match'))
    done()
  })
}
