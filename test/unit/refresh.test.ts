// The refresh contract on the in-process MemoryBackend.
import { MemoryBackend } from '../../src/cache/backends/memory.ts'
import { RedisUnavailableError } from '../../src/redis/errors.ts'
import type { RefreshStore } from '../../src/coordination/refresh/index.ts'
import { refreshContract } from '../contracts/refresh-contract.ts'

/** A store that fails every call the way an unreachable Redis does. */
function unreachable(): RefreshStore {
  const fail = () => Promise.reject(new RedisUnavailableError('memory stand-in: Redis is unreachable (ECONNREFUSED)'))
  return { get: fail, getMany: fail, set: fail, setIfAbsent: fail, deleteIfEquals: fail, ttl: fail }
}

refreshContract('memory', () => {
  const store = new MemoryBackend()
  return Promise.resolve({ store, prefix: 'refresh:', deadStore: () => Promise.resolve(unreachable()), cleanup: () => store.close() })
})
