export {
  DEFAULT_SESSION_TTL_MS,
  hashSessionId,
  isWellFormedSessionId,
  newSessionId,
  type CreateSessionOptions,
  type Session,
  type SessionStore,
  type SessionStoreOptions,
} from './store.ts'
export { MemorySessionStore, type MemorySessionStoreOptions } from './memory.ts'
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis.ts'
export { sessionPlugin, type SessionPluginOptions, type SessionRouteMode } from './fastify.ts'
export { readCookie, serializeCookie, type CookieAttributes } from './cookie.ts'
