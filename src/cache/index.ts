// skalds/cache: Cache Memory: the CacheService (L1 memory + L2 backend), its backends, and the RedisProxy
// (docs/cache.md, docs/cache-backends.md, docs/proxy.md). The Redis connection it runs on, and its errors, are in
// skalds/redis; locks, pub/sub and the rest of the toolkit in skalds/coordination.
export { SerializationError, ValueTooLargeError } from './errors.ts'
export type { CacheBackend, BackendEntry, BackendListener } from './backend.ts'
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
export * from './service/index.ts'
