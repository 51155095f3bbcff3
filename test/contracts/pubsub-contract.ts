// The pub/sub contract: every TypedPubSub transport (in-process, Redis single, Redis Cluster) passes these tests.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { allExecutionUpdates, executionUpdates, PubSubOverflowError, type PubSubSubscription, type TypedPubSub } from '../../src/coordination/pubsub/index.ts'
import { waitFor, within } from '../helpers/wait.ts'

export interface PubSubPair {
  /** the publishing side */
  publisher: TypedPubSub
  /** the subscribing side: another instance (another connection) on the same bus / server */
  subscriber: TypedPubSub
  cleanup(): Promise<void>
}

const next = async <T>(sub: PubSubSubscription<T>, what = 'a message') => {
  const result = await within(sub.next(), what)
  assert.equal(result.done, false, `expected ${what}, the subscription ended`)
  return result.value
}

export function pubsubContract(name: string, factory: () => Promise<PubSubPair>): void {
  void describe(`pubsub contract: ${name}`, () => {
    const run = (title: string, body: (pair: PubSubPair) => Promise<void>) =>
      void test(title, async () => {
        const pair = await factory()
        try {
          await body(pair)
        } finally {
          await pair.cleanup()
        }
      })

    run('a typed channel delivers JSON messages in order to a subscriber on another instance', async ({ publisher, subscriber }) => {
      type Update = { n: number; tags: string[]; nested: { ok: boolean } | null }
      const sub = await subscriber.channel<Update>('orders').subscribe()
      const channel = publisher.channel<Update>('orders')
      for (let n = 0; n < 5; n++) await channel.publish({ n, tags: n % 2 ? [] : ['x'], nested: n === 3 ? null : { ok: true } })
      for (let n = 0; n < 5; n++) {
        const message = await next(sub)
        assert.equal(message.channel, 'orders')
        assert.deepEqual(message.data, { n, tags: n % 2 ? [] : ['x'], nested: n === 3 ? null : { ok: true } })
        assert.equal(message.pattern, undefined)
      }
      await sub.unsubscribe()
    })

    run('two subscriptions of one channel each receive; unsubscribing one leaves the other', async ({ publisher, subscriber }) => {
      const first = await subscriber.subscribe<string>('fanout')
      const second = await subscriber.subscribe<string>('fanout')
      await publisher.publish('fanout', 'a')
      assert.equal((await next(first)).data, 'a')
      assert.equal((await next(second)).data, 'a')
      await first.unsubscribe()
      assert.deepEqual(await first.next(), { value: undefined, done: true })
      await publisher.publish('fanout', 'b')
      assert.equal((await next(second)).data, 'b')
      await second.unsubscribe()
    })

    run('after the last unsubscribe nothing is delivered and the receiver count drops to zero', async ({ publisher, subscriber }) => {
      const sub = await subscriber.subscribe('gone')
      assert.ok((await publisher.publish('gone', 1)) >= 1, 'one receiver while subscribed')
      assert.equal((await next(sub)).data, 1)
      await sub.unsubscribe()
      await waitFor(async () => (await publisher.publish('gone', 2)) === 0, 'the receiver count to reach 0')
    })

    run('a pattern subscription receives matching channels only, with the pattern and channel named', async ({ publisher, subscriber }) => {
      const sub = await subscriber.pSubscribe<{ v: number }>('metrics:*:cpu')
      await publisher.publish('metrics:node-1:mem', { v: 0 }, { sharded: false })
      await publisher.publish('metrics:node-1:cpu', { v: 1 }, { sharded: false })
      await publisher.publish('metrics:node-2:cpu', { v: 2 }, { sharded: false })
      // On a cluster a plain PUBLISH may enter through different nodes and cross the cluster bus: two publishes
      // have no order guarantee there, so compare the set of deliveries.
      const [a, b] = [await next(sub), await next(sub)].sort((x, y) => x.data.v - y.data.v)
      assert.deepEqual([a!.channel, a!.data.v, a!.pattern], ['metrics:node-1:cpu', 1, 'metrics:*:cpu'])
      assert.deepEqual([b!.channel, b!.data.v, b!.pattern], ['metrics:node-2:cpu', 2, 'metrics:*:cpu'])
      await sub.unsubscribe()
    })

    run('breaking out of for-await unsubscribes', async ({ publisher, subscriber }) => {
      const sub = await subscriber.subscribe<number>('loop')
      const seen: number[] = []
      const consumer = (async () => {
        for await (const message of sub) {
          seen.push(message.data)
          if (seen.length === 2) break
        }
      })()
      await publisher.publish('loop', 1)
      await publisher.publish('loop', 2)
      await within(consumer, 'the loop to end')
      assert.deepEqual(seen, [1, 2])
      await waitFor(async () => (await publisher.publish('loop', 3)) === 0, 'no receivers after break')
      assert.deepEqual(await sub.next(), { value: undefined, done: true })
    })

    run('parse rejects malformed messages: they are counted as invalid, the rest delivered', async ({ publisher, subscriber }) => {
      const parse = (value: unknown): { id: string } => {
        if (typeof (value as { id?: unknown }).id !== 'string') throw new TypeError('id must be a string')
        return value as { id: string }
      }
      const sub = await subscriber.channel('typed', { parse }).subscribe()
      await publisher.publish('typed', { id: 7 })
      await publisher.publish('typed', 'nope')
      await publisher.publish('typed', { id: 'ok' })
      assert.deepEqual((await next(sub)).data, { id: 'ok' })
      assert.equal(sub.invalid, 2)
      await sub.unsubscribe()
    })

    run('a full buffer drops the oldest messages and counts them (drop-oldest policy)', async ({ publisher, subscriber }) => {
      const sub = await subscriber.subscribe<number>('flood', { bufferSize: 3 })
      for (let i = 0; i < 10; i++) await publisher.publish('flood', i)
      await waitFor(() => sub.dropped + sub.buffered === 10, 'all 10 messages to arrive')
      assert.equal(sub.dropped, 7)
      assert.deepEqual([(await next(sub)).data, (await next(sub)).data, (await next(sub)).data], [7, 8, 9])
      await sub.unsubscribe()
    })

    run('a full buffer ends the subscription with PubSubOverflowError (error policy) after the buffered messages', async ({ publisher, subscriber }) => {
      const sub = await subscriber.subscribe<number>('overflow', { bufferSize: 2, overflow: 'error' })
      for (let i = 0; i < 5; i++) await publisher.publish('overflow', i)
      // Nobody reads until the overflow has ended the subscription (its receiver count drops to zero).
      await waitFor(async () => (await publisher.publish('overflow', 9)) === 0, 'the overflowed subscription to be gone')
      assert.equal((await next(sub)).data, 0)
      assert.equal((await next(sub)).data, 1)
      await assert.rejects(within(sub.next(), 'the overflow error'), PubSubOverflowError)
    })

    run('a listener that throws never keeps a message from the others', async ({ publisher, subscriber }) => {
      const full = subscriber.prefix + 'robust'
      const sharded = subscriber.transport.shardedByDefault
      let thrown = 0
      const bad = () => {
        thrown++
        throw new Error('listener bug')
      }
      await subscriber.transport.listen(full, bad, sharded)
      const sub = await subscriber.subscribe<number>('robust')
      await publisher.publish('robust', 1)
      assert.equal((await next(sub)).data, 1)
      assert.equal(thrown, 1)
      await subscriber.transport.unlisten(full, bad, sharded)
      await sub.unsubscribe()
    })

    run('bad input is rejected with a message naming the field', async ({ publisher, subscriber }) => {
      await assert.rejects(publisher.publish('', 1), (e: Error) => e instanceof InvalidArgumentError && /channel/.test(e.message))
      await assert.rejects(subscriber.subscribe(''), (e: Error) => e instanceof InvalidArgumentError && /channel/.test(e.message))
      await assert.rejects(subscriber.pSubscribe(''), (e: Error) => e instanceof InvalidArgumentError && /pattern/.test(e.message))
      await assert.rejects(subscriber.subscribe('x', { bufferSize: 0 }), /bufferSize: must be a positive integer/)
      await assert.rejects(publisher.publish('x', 10n), (e: Error) => e instanceof InvalidArgumentError && /not JSON-serializable/.test(e.message))
      await assert.rejects(publisher.publish('x', undefined), /not JSON-serializable/)
    })

    run('closing the instance ends its subscriptions', async ({ subscriber }) => {
      const sub = await subscriber.subscribe('closing')
      const pending = sub.next()
      await subscriber.close()
      assert.deepEqual(await within(pending, 'the iterator to end'), { value: undefined, done: true })
      await assert.rejects(subscriber.subscribe('closing'), /closed/)
    })

    run('execution updates: the seed-003 channel helper publishes and validates { executionId, eventType, data, timestamp }', async ({ publisher, subscriber }) => {
      const mine = await executionUpdates<{ step: number }>(subscriber, 'ex-1').subscribe()
      const all = await allExecutionUpdates(subscriber)
      const updates = executionUpdates<{ step: number }>(publisher, 'ex-1')
      assert.equal(updates.channel.name, 'execution:ex-1:updates')
      // A stray payload on the channel is dropped by the validator, not delivered half-formed.
      await publisher.publish('execution:ex-1:updates', { hello: 'world' })
      const before = Date.now()
      await updates.publish('progress', { step: 2 })
      const update = (await next(mine)).data
      assert.equal(update.executionId, 'ex-1')
      assert.equal(update.eventType, 'progress')
      assert.deepEqual(update.data, { step: 2 })
      assert.ok(Date.parse(update.timestamp) >= before - 1000)
      assert.equal(mine.invalid, 1)
      if (subscriber.transport.shardedByDefault) {
        // On a sharded cluster the pattern subscription cannot see SPUBLISH; publish unsharded for it.
        await publisher.channel('execution:ex-2:updates', { sharded: false }).publish({ executionId: 'ex-2', eventType: 'done', data: null, timestamp: new Date().toISOString() })
      } else {
        await executionUpdates(publisher, 'ex-2').publish('done', null)
      }
      const seen: string[] = []
      while (!seen.includes('ex-2')) seen.push((await next(all, 'ex-2 on the pattern')).data.executionId)
      await assert.rejects(updates.publish('', { step: 1 }), /eventType: must be a non-empty string/)
      assert.throws(() => executionUpdates(publisher, ''), /executionId: must be a non-empty string/)
      await mine.unsubscribe()
      await all.unsubscribe()
    })
  })
}
