// The RedisProxy: Skalds' Cache Memory operations on Redis (docs/proxy.md).
export { RedisProxy, type RedisProxyOptions, type ScanOptions } from './redis-proxy.ts'
export { RedisBatch, type BatchOptions } from './batch.ts'
export { HashTtlSweeper, type HashTtlSweeperOptions, type SweepResult } from './hash-ttl-sweeper.ts'
export { TTL_INDEX_SUFFIX, type FieldTtl, type HashTtlMode } from './hash-ttl.ts'
export type { HashEntries, PushListOptions, TtlOption } from './operations.ts'
export { DEFAULT_MAX_VALUE_BYTES } from './validate.ts'
