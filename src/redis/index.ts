// skalds/redis: the Redis layer every engine shares: one connection (single server, Cluster or Sentinel) with its
// feature probe and command deadlines, cluster slots, glob escaping, and the errors Redis calls end in.
export { RedisConnection, type RedisSubscriber, type RedisNodeHandle, type SendOptions } from './connection.ts'
export { type RedisConnectionOptions, type RedisNodeAddress, connectionOptionsFromEnv } from './connection-options.ts'
export type { RedisFeatures } from './features.ts'
export * from './errors.ts'
export { escapeGlob } from './glob.ts'
export { slotOf, hashTagOf } from './slot.ts'
