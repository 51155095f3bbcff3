// The in-process bus against the Event Queue contract. One MemoryBus stands for "the process": every `create()`
// hands out the same instance, as all components of an embedded Skalds share one.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { BusArgumentError, BusPublishError } from '../../src/bus/errors.ts'
import { MemoryBus } from '../../src/bus/memory.ts'
import { nodeGroupId } from '../../src/bus/types.ts'
import { busContract } from '../contracts/bus-contract.ts'
import { waitFor } from '../helpers/wait.ts'

const shared = new MemoryBus({ logger: silentLogger })

busContract({
  name: 'memory',
  create: () => Promise.resolve(shared),
  countsRedeliveries: true,
  redeliversOnRebalance: false,
  deadlineMs: 10_000,
})

void it('memory: publish rejects once a group holds maxPendingPerGroup events (backpressure, nothing dropped)', async () => {
  const bus = new MemoryBus({ logger: silentLogger, maxPendingPerGroup: 3 })
  const seen: number[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  await bus.subscribe<number>('t', 'g', async (e) => {
    await gate
    seen.push(e.payload)
  })
  for (let i = 0; i < 3; i++) await bus.publish('t', 'k', i)
  await assert.rejects(bus.publish('t', 'k', 3), BusPublishError)
  release()
  await waitFor(() => seen.length === 3, '3 events', 5000)
  await bus.publish('t', 'k', 3)
  await waitFor(() => seen.length === 4, '4 events', 5000)
  assert.deepEqual(seen, [0, 1, 2, 3])
  await bus.close()
})

void it('nodeGroupId gives the stable per-node group', () => {
  assert.equal(nodeGroupId('skald-7'), 'skalds-node-skald-7')
  // BusArgumentError like every bad bus argument (was a TypeError before the options were unified).
  assert.throws(() => nodeGroupId(''), BusArgumentError)
})

void it('memory: ping answers while open and rejects with BusClosedError once closed', async () => {
  const { MemoryBus } = await import('../../src/bus/memory.ts')
  const { BusClosedError } = await import('../../src/bus/errors.ts')
  const bus = new MemoryBus()
  await bus.ping()
  await bus.close()
  await assert.rejects(bus.ping(), BusClosedError)
})
