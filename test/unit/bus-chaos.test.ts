// ChaosBus over the memory bus: the Event Queue contract in pass-through mode, then each fault on demand.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { ChaosBus } from '../../src/bus/chaos.ts'
import { BusArgumentError, BusClosedError, BusPublishError, BusSubscribeError } from '../../src/bus/errors.ts'
import { MemoryBus } from '../../src/bus/memory.ts'
import type { BusEvent, DeadLetter } from '../../src/bus/types.ts'
import { busContract } from '../contracts/bus-contract.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const shared = new ChaosBus(new MemoryBus({ logger: silentLogger }))

busContract({
  name: 'chaos(memory), healthy',
  create: () => Promise.resolve(shared),
  countsRedeliveries: true,
  redeliversOnRebalance: false,
  deadlineMs: 10_000,
})

/** A chaos bus over a fresh memory bus, with one subscription recording what its handler sees. */
async function setup(): Promise<{ chaos: ChaosBus; seen: Array<BusEvent<number>> }> {
  const chaos = new ChaosBus(new MemoryBus({ logger: silentLogger }))
  const seen: Array<BusEvent<number>> = []
  await chaos.subscribe<number>('t', 'g', (e) => void seen.push(e), { retryDelay: 10, maxDeliveries: 1000 })
  return { chaos, seen }
}

void describe('ChaosBus faults on the memory bus', () => {
  void it('alwaysThrow: publish and subscribe reject as an outage would, until heal()', async () => {
    const { chaos, seen } = await setup()
    chaos.alwaysThrow()
    await assert.rejects(chaos.publish('t', 'k', 1), BusPublishError)
    await assert.rejects(chaos.publishRaw('t', 'k', '1'), BusPublishError)
    await assert.rejects(chaos.subscribe('t', 'g2', () => {}), BusSubscribeError)
    chaos.alwaysThrow(new Error('custom'), ['publish'])
    await assert.rejects(chaos.publish('t', 'k', 1), /custom/)
    assert.equal(chaos.calls, 5, 'the first subscribe and every call since reached the wrapper')
    chaos.heal()
    await chaos.publish('t', 'k', 2)
    await waitFor(() => seen.length === 1, 'the event published after heal()')
    assert.deepEqual(seen.map((e) => e.payload), [2])
    await chaos.close()
  })

  void it('alwaysThrow on deliver: the engine retries the event, then dead-letters it as a handler failure', async () => {
    const { chaos, seen } = await setup()
    chaos.alwaysThrow(undefined, ['deliver'])
    await chaos.publish('t', 'k', 1)
    await waitFor(() => chaos.deliveries >= 2, 'a retried delivery')
    chaos.heal()
    await waitFor(() => seen.length === 1, 'the delivery after heal()')
    assert.ok(seen[0]!.attempt >= 2, `attempt ${seen[0]!.attempt}`)

    const strict = new ChaosBus(new MemoryBus({ logger: silentLogger }))
    const deadLetters: DeadLetter[] = []
    // Read on the wrapped bus: the fault applies to every subscription made through the wrapper.
    await strict.inner.subscribe<DeadLetter>('t.dlq', 'dlq-reader', (e) => void deadLetters.push(e.payload))
    await strict.subscribe('t', 'g', () => {}, { retryDelay: 0, maxDeliveries: 2 })
    strict.alwaysThrow(undefined, ['deliver'])
    await strict.publish('t', 'k', 1)
    await waitFor(() => deadLetters.length === 1, 'the dead letter')
    assert.equal(deadLetters[0]!.reason, 'handler-failed')
    assert.equal(deadLetters[0]!.error, 'chaos: the delivery failed')
    assert.equal(deadLetters[0]!.attempts, 2)
    await strict.close()
    await chaos.close()
  })

  void it('alwaysStall: publish waits for the given time, or until heal()', async () => {
    const { chaos, seen } = await setup()
    chaos.alwaysStall(100, ['publish'])
    const started = Date.now()
    await chaos.publish('t', 'k', 1)
    assert.ok(Date.now() - started >= 90, `waited ${Date.now() - started} ms`)
    chaos.alwaysStall(undefined, ['publish'])
    let done = false
    const pending = chaos.publish('t', 'k', 2).then(() => (done = true))
    await sleep(100)
    assert.equal(done, false, 'a stall without a time lasts until heal()')
    chaos.heal(['publish'])
    await pending
    await waitFor(() => seen.length === 2, 'both events')
    assert.deepEqual(seen.map((e) => e.payload), [1, 2])
    await chaos.close()
  })

  void it('alwaysStall on deliver: the event waits unacknowledged, its key\'s next event behind it', async () => {
    const { chaos, seen } = await setup()
    chaos.alwaysStall(undefined, ['deliver'])
    await chaos.publish('t', 'k', 1)
    await chaos.publish('t', 'k', 2)
    await waitFor(() => chaos.deliveries === 1, 'the first delivery to stall')
    await sleep(100)
    assert.equal(seen.length, 0)
    assert.equal(chaos.deliveries, 1, 'the key\'s next event waits behind the stalled one')
    chaos.heal()
    await waitFor(() => seen.length === 2, 'both events after heal()')
    assert.deepEqual(seen.map((e) => e.payload), [1, 2])
    await chaos.close()
  })

  void it('alwaysDrop: a published event is lost, a delivered one is acknowledged without the handler', async () => {
    const { chaos, seen } = await setup()
    chaos.alwaysDrop(['publish'])
    await chaos.publish('t', 'k', 1)
    await assert.rejects(chaos.publish('', 'k', 1), BusArgumentError, 'a lost event was still checked')
    await assert.rejects(chaos.publish('t', 'k', 1n), BusArgumentError)
    await assert.rejects(chaos.publishRaw('t', '', '1'), BusArgumentError)
    chaos.heal()
    chaos.alwaysDrop(['deliver'])
    await chaos.publish('t', 'k', 2)
    await waitFor(() => chaos.deliveries === 1, 'the dropped delivery')
    chaos.heal()
    await chaos.publish('t', 'k', 3)
    await waitFor(() => seen.length === 1, 'the event after heal()')
    await sleep(50)
    assert.deepEqual(seen.map((e) => e.payload), [3], 'event 1 never reached the engine, event 2 was acknowledged unhandled')
    assert.equal(chaos.deliveries, 2)
    await chaos.close()
  })

  void it('rejects faults that make no sense; close() heals and never waits for a stall', async () => {
    const { chaos } = await setup()
    assert.throws(() => chaos.alwaysDrop(['subscribe']), BusArgumentError)
    assert.throws(() => chaos.alwaysStall(-1), BusArgumentError)
    assert.throws(() => chaos.alwaysThrow(undefined, ['nope' as never]), BusArgumentError)
    chaos.alwaysStall()
    const pending = chaos.publish('t', 'k', 1)
    await chaos.close()
    await assert.rejects(pending, BusClosedError, 'released by close(), the publish meets the closed bus')
    assert.equal(chaos.kind, 'memory')
  })
})
