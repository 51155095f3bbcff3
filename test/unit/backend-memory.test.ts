// The CacheBackend contract on the in-process memory backend.
import { silentLogger } from '../../src/config/logger.ts'
import { MemoryBackend } from '../../src/cache/backends/memory.ts'
import { backendContract } from '../contracts/backend-contract.ts'

backendContract('memory', () => {
  const backend = new MemoryBackend({ sweepIntervalMs: 50, logger: silentLogger })
  return Promise.resolve({ backend, prefix: 'mem:', close: () => backend.close() })
})
