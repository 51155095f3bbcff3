export { RateLimiter, createRateLimiter, rateLimited, type RateLimiterOptions } from './limiter.ts'
export {
  RATE_LIMIT_ALGORITHMS,
  ON_STORE_ERROR,
  type RateLimitAlgorithm,
  type RateLimitPolicy,
  type RateLimitResult,
  type RateLimitStore,
  type OnStoreError,
} from './types.ts'
export { RedisRateLimitStore, createRedisRateLimitStore } from './redis-rate-limit-store.ts'
export { MemoryRateLimitStore, createMemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './memory-rate-limit-store.ts'
export { rateLimitPlugin, type RateLimitPluginOptions, type RateLimitRule, type RateLimitKeyBy } from './fastify-plugin.ts'
export { RateLimitExceededError } from './errors.ts'
