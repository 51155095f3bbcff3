export {
  RateLimiter,
  createRateLimiter,
  rateLimited,
  resolvePolicy,
  RATE_LIMIT_ALGORITHMS,
  type RateLimitAlgorithm,
  type RateLimitPolicy,
  type RateLimitResult,
  type RateLimitStore,
  type RateLimiterOptions,
} from './limiter.ts'
export { RedisRateLimitStore, createRedisRateLimitStore } from './redis-rate-limit-store.ts'
export { MemoryRateLimitStore, createMemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './memory-rate-limit-store.ts'
export { ON_STORE_ERROR, type OnStoreError } from './fallback.ts'
export { rateLimitPlugin, type RateLimitPluginOptions, type RateLimitRule, type RateLimitKeyBy } from './fastify-plugin.ts'
export { RateLimitExceededError } from './errors.ts'
