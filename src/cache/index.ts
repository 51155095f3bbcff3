// skalds/cache: the Cache Memory layer.
export {}
export { RedisBackend, type RedisBackendOptions } from './backends/redis.ts'
export {
  ResilientBackend,
  type ResilientBackendOptions,
  type BreakerOptions,
  type BreakerState,
  type BreakerStateChange,
} from './backends/resilient.ts'
export { ChaosBackend } from './backends/chaos.ts'
