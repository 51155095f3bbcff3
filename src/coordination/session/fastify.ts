// A Fastify plugin authenticating requests by session: `Authorization: Bearer <id>` or a session cookie.
// Decorates `request.session`; answers 401 (JSON) when the session is missing or expired, 503 when the store is
// unreachable. Routes opt out with `config: { session: false }` or accept anonymous callers with `'optional'`.
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { z } from 'zod'
import { boolean, oneOf, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError, isOutageError } from '../../redis/errors.ts'
import { readCookie, serializeCookie } from './cookie.ts'
import type { CreateSessionOptions, Session, SessionStore } from './store.ts'

/** Per route (`config.session`): `required` (default) answers 401 without a live session; `optional` lets anonymous
 * callers through with `request.session === null`; `false` skips the lookup altogether. */
export type SessionRouteMode = 'required' | 'optional' | false

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's live session (already renewed), or null. */
    session: Session | null
  }
  interface FastifyReply {
    /** Creates a session, sets the cookie, and makes it `request.session`. */
    startSession<D>(userId: string, data: D, options?: CreateSessionOptions): Promise<Session<D>>
    /** Destroys the request's session (if any) and clears the cookie. */
    endSession(): Promise<void>
  }
  interface FastifyContextConfig {
    /** Session handling of this route; default: the plugin's `defaultMode`. */
    session?: SessionRouteMode
  }
}

export interface SessionPluginOptions {
  /** Where sessions live (MemorySessionStore or RedisSessionStore). Required. */
  store: SessionStore
  /** Name of the session cookie. Default `sid`. */
  cookieName?: string
  /** Accept `Authorization: Bearer <session id>`. Default `true`. */
  bearer?: boolean
  /** Mode of routes that do not set `config.session`. Default `'required'`. */
  defaultMode?: SessionRouteMode
  cookie?: {
    /** Send the cookie over HTTPS only. Default `true` (turn off for plain-HTTP development only). */
    secure?: boolean
    /** SameSite attribute. Default `'Lax'`. */
    sameSite?: 'Lax' | 'Strict' | 'None'
    /** Path attribute. Default `/`. */
    path?: string
    /** Domain attribute. Default none (the request's host). */
    domain?: string
    /**
     * Re-send the cookie with a fresh Max-Age whenever a cookie-authenticated request renews the session, so the
     * browser's expiry slides with the server's. Default `true`.
     */
    rolling?: boolean
  }
}

const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const pluginSchema = optionsObject({
  store: z.custom<SessionStore>((v) => typeof (v as SessionStore | undefined)?.get === 'function', { error: 'a SessionStore is required' }),
  cookieName: z.custom<string>((v) => typeof v === 'string' && COOKIE_TOKEN.test(v), { error: (issue) => `${JSON.stringify(issue.input)} is not a valid cookie name` }).optional(),
  bearer: boolean().optional(),
  defaultMode: z
    .custom<SessionRouteMode>((v) => v === 'required' || v === 'optional' || v === false, {
      error: (issue) => `must be 'required', 'optional' or false, got ${JSON.stringify(issue.input)}`,
    })
    .optional(),
  cookie: optionsObject({
    secure: boolean().optional(),
    sameSite: oneOf(['Lax', 'Strict', 'None']).optional(),
    path: z.string().optional(),
    domain: z.string().optional(),
    rolling: boolean().optional(),
  }).optional(),
})

/** Validates the session plugin's options and fills the defaults; bad input throws InvalidArgumentError (`field: reason`). */
export function resolveSessionPluginOptions(options: SessionPluginOptions) {
  const o = parseOptions(pluginSchema, options, (message) => new InvalidArgumentError(message))
  return {
    store: o.store,
    cookieName: o.cookieName ?? 'sid',
    bearer: o.bearer ?? true,
    defaultMode: o.defaultMode ?? 'required',
    attributes: { path: o.cookie?.path ?? '/', domain: o.cookie?.domain, secure: o.cookie?.secure ?? true, sameSite: o.cookie?.sameSite ?? 'Lax' } as const,
    rolling: o.cookie?.rolling ?? true,
  }
}

function plugin(fastify: FastifyInstance, options: SessionPluginOptions, done: (error?: Error) => void): void {
  try {
    register(fastify, options)
    done()
  } catch (error) {
    done(error as Error)
  }
}

function register(fastify: FastifyInstance, options: SessionPluginOptions): void {
  const { store, cookieName, bearer, defaultMode, attributes, rolling } = resolveSessionPluginOptions(options)

  /** Sets the session cookie, replacing one set earlier in this reply (other cookies are kept). */
  const putCookie = (reply: FastifyReply, value: string): void => {
    const existing = reply.getHeader('set-cookie')
    const others = (Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]).filter(
      (cookie) => !cookie.startsWith(`${cookieName}=`),
    )
    reply.removeHeader('set-cookie')
    void reply.header('set-cookie', [...others, value])
  }
  const setCookie = (reply: FastifyReply, session: Session<unknown>): void =>
    putCookie(reply, serializeCookie(cookieName, session.id, { ...attributes, maxAge: session.ttlMs / 1000 }))
  const clearCookie = (reply: FastifyReply): void => putCookie(reply, serializeCookie(cookieName, '', { ...attributes, maxAge: 0 }))
  const deny = (reply: FastifyReply, code: string, message: string): FastifyReply =>
    reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, error: 'Unauthorized', code, message })

  fastify.decorateRequest('session', null)
  fastify.decorateReply('startSession', async function <D>(this: FastifyReply, userId: string, data: D, createOptions?: CreateSessionOptions) {
    const session = await (store as SessionStore<D>).create(userId, data, createOptions)
    setCookie(this, session)
    this.request.session = session
    return session
  })
  fastify.decorateReply('endSession', async function (this: FastifyReply) {
    const session = this.request.session
    if (session) await store.destroy(session.id)
    this.request.session = null
    clearCookie(this)
  })

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const mode = request.routeOptions.config?.session ?? defaultMode
    if (mode === false) return
    let id: string | undefined
    let fromCookie = false
    const authorization = request.headers.authorization
    if (bearer && authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
      if (match) id = match[1]
    }
    if (id === undefined) {
      id = readCookie(request.headers.cookie, cookieName)
      fromCookie = id !== undefined
    }
    if (id === undefined || id === '') {
      if (mode === 'required') return deny(reply, 'E_SESSION_MISSING', `authentication required: send the ${cookieName} cookie${bearer ? ' or Authorization: Bearer <session id>' : ''}`)
      return
    }
    let session: Session | undefined
    try {
      session = await store.get(id)
    } catch (error) {
      if (!isOutageError(error)) throw error
      request.log.warn({ err: error }, 'session store unreachable')
      return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', code: 'E_SESSION_STORE_UNAVAILABLE', message: 'the session store is unreachable; retry shortly' })
    }
    if (!session) {
      if (fromCookie) clearCookie(reply)
      if (mode === 'required') return deny(reply, 'E_SESSION_EXPIRED', 'the session is expired or unknown: sign in again')
      return
    }
    request.session = session
    if (fromCookie && rolling) setCookie(reply, session)
  })
}

/** The session plugin (encapsulation-free: its hook and decorations apply to the whole app it is registered on). */
// Typed by name: the d.ts would otherwise say `typeof plugin`, a function users cannot name.
export const sessionPlugin: FastifyPluginCallback<SessionPluginOptions> = fp(plugin, { fastify: '5.x', name: 'skalds-session' })
