// skalds/cache: the Cache Memory layer.
export { RedisConnection, type RedisSubscriber, type RedisNodeHandle, type SendOptions } from '../redis/connection.ts'
export { type RedisConnectionOptions, type RedisNodeAddress, connectionOptionsFromEnv } from '../redis/connection-options.ts'
export type { RedisFeatures } from '../redis/features.ts'
export * from '../redis/errors.ts'
export { escapeGlob } from '../redis/glob.ts'
export { slotOf, hashTagOf } from '../redis/slot.ts'
export type { CacheBackend, BackendEntry } from './backend.ts'
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory.ts'
export { RedisBackend, type RedisBackendOptions } from './backends/redis.ts'
export {
  ResilientBackend,
  type ResilientBackendOptions,
  type BreakerOptions,
  type BreakerState,
  type BreakerStateChange,
} from './backends/resilient.ts'
export { ChaosBackend } from './backends/chaos.ts'
export * from './proxy/index.ts'
export * from './pubsub/index.ts'
export * from './session/index.ts'
export * from './bloom/index.ts'
export * from './refresh/index.ts'
export * from './service/index.ts'
export * from './lock/index.ts'
export * from './rate-limit/index.ts'
