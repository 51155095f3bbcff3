// CacheService: the cache facade (namespaces, getOrSet with stampede protection, L1 over L2, degradation, stats).
export { createCache } from './create-cache.ts'
export { cached, type CachedFunction, type CachedOptions } from './cached.ts'
export {
  CacheService,
  type CacheHealth,
  type CacheStatistics,
  type Factory,
  type FactoryContext,
  type SetManyEntry,
} from './cache-service.ts'
export type {
  CacheOptions,
  CounterOptions,
  GetOrSetOptions,
  L1Config,
  LockOptions,
  NamespaceOptions,
  Serializer,
  SetOptions,
  WriteThroughOptions,
} from './options.ts'
export type { NamespaceStats, SlowOperation } from './stats.ts'
