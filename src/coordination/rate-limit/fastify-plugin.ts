// Fastify plugin: a global limit and per-route limits (`config: { rateLimit: {...} | false }`), keyed by IP, user or
// a function; X-RateLimit-* and IETF RateLimit/RateLimit-Policy headers; 429 with a JSON body.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Duration } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import { boolean, duration, fn, oneOf, opaque, optionsObject, parseOptions, show } from '../../config/options.ts'
import { z } from 'zod'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { RateLimiter, resolvePolicy } from './limiter.ts'
import { ON_STORE_ERROR, type OnStoreError, type RateLimitAlgorithm, type RateLimitResult, type RateLimitStore } from './types.ts'
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

const invalid = (message: string) => new InvalidArgumentError(message)
const keyBySchema = z.custom<RateLimitKeyBy>((v) => v === 'ip' || v === 'user' || typeof v === 'function', {
  error: (issue) => `must be 'ip', 'user' or a function, got ${JSON.stringify(issue.input)}`,
})
const pluginSchema = optionsObject({
  store: z.custom<RateLimitStore>((v) => typeof (v as RateLimitStore | undefined)?.consume === 'function', { error: 'must be a RateLimitStore' }).optional(),
  // Rules are checked by ruleSchema when they are built, so their errors name the route.
  global: z.custom<RateLimitRule | false>((v) => v === false || (typeof v === 'object' && v !== null), { error: 'must be a rule ({ limit, window, … }) or false' }).optional(),
  keyBy: keyBySchema.optional(),
  userId: fn<(request: FastifyRequest) => string | undefined>().optional(),
  keyPrefix: z.string().optional(),
  onStoreError: oneOf(ON_STORE_ERROR).optional(),
  storeErrorRetryAfter: duration().optional(),
  headers: optionsObject({ legacy: boolean().optional(), ietf: z.custom<'structured' | 'draft-07' | false>((v) => v === false || v === 'structured' || v === 'draft-07', {
    error: (issue) => `must be 'structured', 'draft-07' or false, got ${JSON.stringify(issue.input)}`,
  }).optional() }).optional(),
  skip: fn<(request: FastifyRequest) => boolean>().optional(),
  logger: opaque<Logger>().optional(),
})
const ruleSchema = optionsObject({
  keyBy: keyBySchema.optional(),
  cost: z.custom<RateLimitRule['cost']>((v) => typeof v === 'function' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1), {
    error: (issue) => `must be a whole number >= 1 or a function, got ${show(issue.input)}`,
  }).optional(),
  name: z.string().optional(),
})

/** Validates the plugin's options and fills the defaults; bad input throws InvalidArgumentError (`rateLimit plugin field: reason`). */
export function resolveRateLimitPluginOptions(options: RateLimitPluginOptions | undefined) {
  const o = parseOptions(pluginSchema, options ?? {}, invalid, 'rateLimit plugin', 'options', ' ')
  return {
    store: o.store,
    global: o.global,
    keyBy: o.keyBy ?? 'ip',
    userId: o.userId ?? defaultUserId,
    keyPrefix: o.keyPrefix ?? 'rl:http:',
    onStoreError: o.onStoreError,
    storeErrorRetryAfter: o.storeErrorRetryAfter,
    legacyHeaders: o.headers?.legacy ?? true,
    ietfHeaders: o.headers?.ietf ?? 'structured',
    skip: o.skip,
    logger: o.logger,
  }
}

function setup(fastify: FastifyInstance, input: RateLimitPluginOptions): void {
  const options = resolveRateLimitPluginOptions(input)
  const store = options.store ?? new MemoryRateLimitStore()
  const logger = options.logger ?? createLogger('skalds:rate-limit')
  const prefix = options.keyPrefix
  const keyBy = options.keyBy
  const userId = options.userId
  const legacy = options.legacyHeaders
  const ietf = options.ietfHeaders

  const build = (rule: RateLimitRule, name: string, field: string): ActiveRule => {
    resolvePolicy(rule, field)
    const extra = parseOptions(ruleSchema, rule, invalid, field, 'options', ' ')
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
    return { limiter, name: extra.name ?? name, keyBy: extra.keyBy ?? keyBy, cost: extra.cost }
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
