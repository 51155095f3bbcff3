// The CacheService contract on the embedded memory backend (no server).
import { after } from 'node:test'
import { MemoryBackend } from '../../../src/cache/backends/memory.ts'
import { createCache } from '../../../src/cache/index.ts'
import { silentLogger } from '../../../src/config/logger.ts'
import { cacheContract } from '../../helpers/cache-contract.ts'

// One backend shared by every cache of the suite: two createCache() on it behave like two processes on one Redis.
const backend = new MemoryBackend()
after(() => backend.close())

cacheContract('the memory backend', (options) => createCache({ logger: silentLogger, ...options, backend }))
