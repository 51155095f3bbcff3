// skalds/cache: the Cache Memory layer. The Redis connection it runs on, and its errors, are in skalds/redis.
export * from './errors.ts'
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
