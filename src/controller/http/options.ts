// The API's options, each with its default and unit, checked once: a wrong one names its field.
import { z } from 'zod'
import type { RateLimitPluginOptions } from '../../coordination/rate-limit/fastify-plugin.ts'
import { SkaldsError } from '../../model/errors.ts'

export interface ApiCorsOptions {
  /** origins allowed to call the API from a browser: a list of exact origins (`https://ops.example.com`), or `*` */
  origins: string[] | '*'
  /** let browsers send cookies / credentials; default false. Never with `*` (refused). */
  credentials?: boolean
}

export interface ControllerApiOptions {
  /** bearer token the API requires (`SKALDS_API_TOKEN`), at least 16 characters; default none (no authentication) */
  token?: string
  /** with a token: require it on every route, reads included; default false (mutating routes only) */
  strict?: boolean
  /** cross-origin browser access; default false (same origin only: the dashboard is served by the controller) */
  cors?: ApiCorsOptions | false
  /**
   * rate limiting through the toolkit's Fastify plugin (coordination/rate-limit); default a global 1200 requests per
   * minute per client IP on an in-process store (pass `store` to share counters between controllers over Redis);
   * `false` = none
   */
  rateLimit?: RateLimitPluginOptions | false
  /** largest request body, bytes; default 1048576 (1 MiB) */
  bodyLimitBytes?: number
  /** trust X-Forwarded-* from a proxy in front (Fastify `trustProxy`); default false */
  trustProxy?: boolean | string | string[]
  /** serve the OpenAPI document (/api/openapi.json) and its UI (/api/docs); default true */
  docs?: boolean
  /** the API's own log level (each request is logged at info); default `warn` */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  /**
   * serve the web dashboard at /dashboard (and at / to browsers); default true. `{ root }` names the built app's
   * folder (default the package's dashboard/dist); `false` = no dashboard (/ answers JSON only)
   */
  dashboard?: boolean | { root?: string }
}

/** An API option that cannot work, named with its field. */
export class ApiOptionsError extends SkaldsError {
  constructor(message: string) {
    super('E_API_OPTIONS_INVALID', message)
  }
}

export interface ResolvedApiOptions {
  token: string | undefined
  strict: boolean
  cors: Required<ApiCorsOptions> | false
  rateLimit: RateLimitPluginOptions | false
  bodyLimitBytes: number
  trustProxy: boolean | string | string[]
  docs: boolean
  logLevel: NonNullable<ControllerApiOptions['logLevel']>
  dashboard: { root?: string } | false
}

const origin = z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be an origin like https://host[:port], without a path')

export function parseApiOptions(o: ControllerApiOptions): ResolvedApiOptions {
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length < 16)) throw new ApiOptionsError('token: must be a string of at least 16 characters')
  if (o.strict && o.token === undefined) throw new ApiOptionsError('strict: needs a token')
  let cors: ResolvedApiOptions['cors'] = false
  if (o.cors) {
    const credentials = o.cors.credentials ?? false
    if (o.cors.origins === '*') {
      if (credentials) throw new ApiOptionsError('cors.credentials: cannot be true with origins "*" (any site could act with the user\'s credentials); list the origins')
      cors = { origins: '*', credentials }
    } else {
      const parsed = z.array(origin).min(1, 'must list at least one origin').safeParse(o.cors.origins)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw new ApiOptionsError(`cors.origins${issue?.path.length ? `[${issue.path.join('.')}]` : ''}: ${issue?.message ?? 'invalid'}`)
      }
      cors = { origins: parsed.data, credentials }
    }
  }
  const bodyLimitBytes = o.bodyLimitBytes ?? 1_048_576
  if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1024) throw new ApiOptionsError(`bodyLimitBytes: must be an integer ≥ 1024, got ${String(bodyLimitBytes)}`)
  return {
    token: o.token,
    strict: o.strict ?? false,
    cors,
    rateLimit: o.rateLimit === undefined ? { global: { limit: 1200, window: '1m' }, keyBy: 'ip' } : o.rateLimit,
    bodyLimitBytes,
    trustProxy: o.trustProxy ?? false,
    docs: o.docs ?? true,
    logLevel: o.logLevel ?? 'warn',
    dashboard: o.dashboard === false ? false : o.dashboard === true || o.dashboard === undefined ? {} : o.dashboard,
  }
}
