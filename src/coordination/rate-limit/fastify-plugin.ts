// Fastify plugin: a global limit and per-route limits (`config: { rateLimit: {...} | false }`), keyed by IP, user or
// a function; X-RateLimit-* and IETF RateLimit/RateLimit-Policy headers; 429 with a JSON body.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Duration } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { RateLimiter, resolvePolicy } from './limiter.ts'
import type { OnStoreError, RateLimitAlgorithm, RateLimitResult, RateLimitStore } from './types.ts'
import { MemoryRateLimitStore } from './memory-rate-limit-store.ts'

/** Whose requests share a counter: the client IP (`request.ip`), the user (`userId`), or any function. */
export type RateLimitKeyBy = 'ip' | 'user' | ((request: FastifyRequest) => string | undefined)

export interface RateLimitRule {
  /** Requests per window (token bucket: capacity). Whole number >= 1. */
  limit: number
  /** Window length: ms or `'1m'`-style. */
  window: Duration
  /** Default `sliding-window`. */
  algorithm?: RateLimitAlgorithm
  /** Overrides the plugin's `keyBy` for this rule. */
  keyBy?: RateLimitKeyBy
  /** Units one request costs (or a function of the request). Default 1. */
  cost?: number | ((request: FastifyRequest) => number)
  /** Policy name in the IETF headers. Default `global` for the global rule, `<METHOD> <url>` for a route. */
  name?: string
}

export interface RateLimitPluginOptions {
  /** Where counters live. Default: a new in-process memory store (limits per process). */
  store?: RateLimitStore
  /** The limit of every route without its own `config.rateLimit`. Default none (only routes with a rule are limited). */
  global?: RateLimitRule | false
  /** Default `ip`. With `user`, requests without a user fall back to their IP. A function returning `undefined` or `''` also falls back to the IP. */
  keyBy?: RateLimitKeyBy
  /** How `keyBy: 'user'` finds the user. Default `request.user.id` (or `request.user.sub`, or `request.user` when a string). */
  userId?: (request: FastifyRequest) => string | undefined
  /** Prefix of counter keys. Default `rl:http:`. */
  keyPrefix?: string
  /** See RateLimiterOptions.onStoreError. Default `fallback-local`. */
  onStoreError?: OnStoreError
  /** See RateLimiterOptions.storeErrorRetryAfter. Default `1s`. */
  storeErrorRetryAfter?: Duration
  /**
   * Headers on every limited response. `legacy` (default true): X-RateLimit-Limit, X-RateLimit-Remaining,
   * X-RateLimit-Reset (seconds until reset). `ietf` (default `structured`): `structured` emits the structured-field
   * form of draft-ietf-httpapi-ratelimit-headers (drafts 08 and later): `RateLimit-Policy: "name";q=100;w=60` and
   * `RateLimit: "name";r=42;t=17`; `draft-07` emits `RateLimit-Policy: 100;w=60` and
   * `RateLimit: limit=100, remaining=42, reset=17`; `false` emits none. Retry-After (seconds) is always on a 429.
   */
  headers?: { legacy?: boolean; ietf?: 'structured' | 'draft-07' | false }
  /** Requests for which this returns true are not counted. Default none. */
  skip?: (request: FastifyRequest) => boolean
  /** Default the library logger (`skalds:rate-limit`). */
  logger?: Logger
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's rate limit (replaces the global one), or `false` for none. */
    rateLimit?: RateLimitRule | false
  }
}

interface ActiveRule {
  limiter: RateLimiter
  name: string
  keyBy: RateLimitKeyBy
  cost: RateLimitRule['cost']
}

const sfString = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`
const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000))

function defaultUserId(request: FastifyRequest): string | undefined {
  const user = (request as FastifyRequest & { user?: unknown }).user
  if (typeof user === 'string') return user
  if (user && typeof user === 'object') {
    const id = (user as { id?: unknown; sub?: unknown }).id ?? (user as { sub?: unknown }).sub
    if (typeof id === 'string' || typeof id === 'number') return String(id)
  }
  return undefined
}

function checkKeyBy(keyBy: unknown, field: string): RateLimitKeyBy {
  if (keyBy === 'ip' || keyBy === 'user' || typeof keyBy === 'function') return keyBy as RateLimitKeyBy
  throw new InvalidArgumentError(`${field}: must be 'ip', 'user' or a function, got ${JSON.stringify(keyBy)}`)
}

function setup(fastify: FastifyInstance, options: RateLimitPluginOptions): void {
  const store = options.store ?? new MemoryRateLimitStore()
  const logger = options.logger ?? createLogger('skalds:rate-limit')
  const prefix = options.keyPrefix ?? 'rl:http:'
  const keyBy = checkKeyBy(options.keyBy ?? 'ip', 'rateLimit plugin keyBy')
  const userId = options.userId ?? defaultUserId
  const legacy = options.headers?.legacy ?? true
  const ietf = options.headers?.ietf ?? 'structured'
  if (ietf !== false && ietf !== 'structured' && ietf !== 'draft-07') {
    throw new InvalidArgumentError(`rateLimit plugin headers.ietf: must be 'structured', 'draft-07' or false, got ${JSON.stringify(ietf)}`)
  }

  const build = (rule: RateLimitRule, name: string, field: string): ActiveRule => {
    resolvePolicy(rule, field)
    const limiter = new RateLimiter({
      store,
      limit: rule.limit,
      window: rule.window,
      algorithm: rule.algorithm,
      keyPrefix: `${prefix}${name}:`,
      onStoreError: options.onStoreError,
      storeErrorRetryAfter: options.storeErrorRetryAfter,
      logger,
    })
    return { limiter, name: rule.name ?? name, keyBy: rule.keyBy === undefined ? keyBy : checkKeyBy(rule.keyBy, `${field} keyBy`), cost: rule.cost }
  }

  const global = options.global ? build(options.global, 'global', 'rateLimit plugin global') : undefined
  const routes = new Map<string, ActiveRule>()
  const routeName = (method: string | string[], url: string): string => `${[method].flat().join(',')} ${url}`

  // Route rules are validated when the route is declared, so a bad limit fails at startup, not on a request.
  fastify.addHook('onRoute', (route) => {
    const rule = route.config?.rateLimit
    if (!rule) return
    const name = routeName(route.method, route.url ?? route.path)
    routes.set(name, build(rule, name, `route ${name} config.rateLimit`))
  })

  const identity = (request: FastifyRequest, by: RateLimitKeyBy): string => {
    if (by === 'user') {
      const id = userId(request)
      if (id) return `user:${id}`
    } else if (typeof by === 'function') {
      const id = by(request)
      if (id) return `key:${id}`
    }
    return `ip:${request.ip}`
  }

  const setHeaders = (reply: FastifyReply, active: ActiveRule, result: RateLimitResult): void => {
    const reset = seconds(result.resetMs)
    if (legacy) {
      reply.header('X-RateLimit-Limit', result.limit)
      reply.header('X-RateLimit-Remaining', result.remaining)
      reply.header('X-RateLimit-Reset', reset)
    }
    const windowSeconds = seconds(active.limiter.policy.windowMs)
    if (ietf === 'structured') {
      reply.header('RateLimit-Policy', `${sfString(active.name)};q=${result.limit};w=${windowSeconds}`)
      reply.header('RateLimit', `${sfString(active.name)};r=${result.remaining};t=${reset}`)
    } else if (ietf === 'draft-07') {
      reply.header('RateLimit-Policy', `${result.limit};w=${windowSeconds}`)
      reply.header('RateLimit', `limit=${result.limit}, remaining=${result.remaining}, reset=${reset}`)
    }
  }

  fastify.addHook('onRequest', async (request, reply) => {
    const rule = request.routeOptions.config?.rateLimit
    if (rule === false) return
    let active: ActiveRule | undefined
    if (rule) {
      const name = routeName(request.routeOptions.method ?? request.method, request.routeOptions.url ?? request.url)
      active = routes.get(name)
      if (!active) {
        active = build(rule, name, `route ${name} config.rateLimit`)
        routes.set(name, active)
      }
    } else active = global
    if (!active || options.skip?.(request)) return
    const cost = typeof active.cost === 'function' ? active.cost(request) : active.cost
    const result = await active.limiter.check(identity(request, active.keyBy), { cost })
    setHeaders(reply, active, result)
    if (result.allowed) return
    const retry = Math.max(1, seconds(result.retryAfterMs))
    reply.header('Retry-After', retry)
    await reply.code(429).send({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Rate limit exceeded, retry in ${retry} s`,
      retryAfterMs: result.retryAfterMs,
    })
    return reply
  })
}

// Configuration errors reject the registration (fastify.register / ready), naming the field.
const plugin: FastifyPluginAsync<RateLimitPluginOptions> = (fastify, options) => {
  try {
    setup(fastify, options)
    return Promise.resolve()
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)))
  }
}

/** `fastify.register(rateLimitPlugin, { global: { limit: 100, window: '1m' }, keyBy: 'ip' })`. */
export const rateLimitPlugin = fp(plugin, { fastify: '5.x', name: 'skalds-rate-limit' })
