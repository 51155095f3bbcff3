export type { CreateSessionOptions, Session, SessionStore, SessionStoreOptions } from './store.ts'
export { MemorySessionStore, type MemorySessionStoreOptions } from './memory.ts'
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis.ts'
export { sessionPlugin, type SessionPluginOptions, type SessionRouteMode } from './fastify.ts'
