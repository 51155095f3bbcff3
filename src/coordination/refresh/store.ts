// What the refresh scheduler needs from a store: the subset of CacheBackend it uses. MemoryBackend (one process)
// and RedisBackend (Redis single server, Sentinel or Cluster) plug in as they are.
import type { CacheBackend } from '../../cache/backend.ts'

/** The CacheBackend methods the scheduler calls. Keys are complete (a backend adds no prefix of its own). */
export type RefreshStore = Pick<CacheBackend, 'get' | 'getMany' | 'set' | 'setIfAbsent' | 'deleteIfEquals' | 'ttl'>
