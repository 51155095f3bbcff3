// The RedisProxy: Skalds' Cache Memory operations on Redis (docs/proxy.md). The sweeper and the emulation's key
// layout are the proxy's own business: it starts and stops the sweeper from its `sweeper` option.
export { RedisProxy, type RedisProxyOptions, type ScanOptions } from './redis-proxy.ts'
// A batch comes from proxy.batch(); its constructor takes the proxy's internals.
export type { RedisBatch, BatchOptions } from './batch.ts'
export type { HashTtlSweeperOptions } from './hash-ttl-sweeper.ts'
export type { FieldTtl, HashTtlMode } from './hash-ttl.ts'
export type { HashEntries, PushListOptions, TtlOption } from './operations.ts'
export { DEFAULT_MAX_VALUE_BYTES } from './validate.ts'
