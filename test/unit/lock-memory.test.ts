import { createMemoryLockStore } from '../../src/coordination/lock/memory-lock-store.ts'
import { lockContract } from '../contracts/lock-contract.ts'

lockContract('memory', () => {
  const store = createMemoryLockStore()
  return Promise.resolve({ store, close: () => store.close() })
})
