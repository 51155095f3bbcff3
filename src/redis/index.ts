// skalds/redis: the Redis layer every engine shares: one connection (single server, Cluster or Sentinel) with its
// feature probe and command deadlines, glob escaping, and the errors Redis calls end in (docs/cache-backends.md).
// Slots, script calls, the pub/sub transport and the client adapters stay internal.
export { RedisConnection, type RedisNodeHandle, type SendOptions } from './connection.ts'
export type { MessageListener, RedisArg, RedisSubscriber, Reply } from './types.ts'
export {
  type RedisConnectionOptions,
  type RedisNodeAddress,
  type ResolvedConnectionOptions,
  connectionOptionsFromEnv,
} from './connection-options.ts'
export type { RedisFeatures } from './features.ts'
export {
  SkaldsError,
  RedisUnavailableError,
  RedisTimeoutError,
  RedisAuthError,
  RedisTopologyError,
  CrossSlotError,
  CircuitOpenError,
  InvalidArgumentError,
  RedisCommandError,
  isOutageError,
} from './errors.ts'
export { escapeGlob } from './glob.ts'
