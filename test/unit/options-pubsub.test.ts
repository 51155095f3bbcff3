// Option resolvers of pub/sub: TypedPubSub / MemoryPubSub / RedisPubSub constructors, subscribe and channel options.
// Bad input is an InvalidArgumentError naming the field.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryPubSub, MemoryPubSubBus, resolveMemoryPubSubOptions } from '../../src/coordination/pubsub/memory.ts'
import { resolveChannelOptions, resolveSubscribeOptions, resolveTypedPubSubOptions } from '../../src/coordination/pubsub/pubsub.ts'
import { resolveRedisPubSubOptions } from '../../src/coordination/pubsub/redis.ts'
import type { RedisConnection } from '../../src/redis/connection.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const named = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)

void test('pubsub constructor options: defaults, prefix, bus', () => {
  assert.equal(resolveTypedPubSubOptions({}).prefix, '')
  assert.equal(resolveTypedPubSubOptions(undefined).prefix, '')
  assert.equal(resolveTypedPubSubOptions({ prefix: 'app:' }).prefix, 'app:')
  assert.throws(() => resolveTypedPubSubOptions({ prefix: 3 as never }), named(/^TypedPubSub: prefix: must be a string$/))
  assert.throws(() => resolveTypedPubSubOptions('x' as never), named(/^TypedPubSub: options: must be an object, got string$/))

  const bus = new MemoryPubSubBus()
  assert.equal(resolveMemoryPubSubOptions({ bus }).bus, bus)
  assert.ok(resolveMemoryPubSubOptions({}).bus instanceof MemoryPubSubBus)
  assert.throws(() => resolveMemoryPubSubOptions({ bus: {} as never }), named(/^MemoryPubSub: bus: must be a MemoryPubSubBus$/))
  assert.throws(() => new MemoryPubSub({ prefix: 1 as never }), named(/^MemoryPubSub: prefix: must be a string$/))
  assert.throws(() => new MemoryPubSubBus(7 as never), named(/^MemoryPubSubBus: options: must be an object, got number$/))

  const logger = { info() {} } as never
  const connection = { keyPrefix: 'k:', logger } as unknown as RedisConnection
  assert.deepEqual(resolveRedisPubSubOptions(connection, {}), { prefix: 'k:', logger })
  assert.equal(resolveRedisPubSubOptions(connection, { prefix: '' }).prefix, '')
  assert.equal(resolveRedisPubSubOptions(connection, { prefix: undefined }).prefix, 'k:')
  assert.throws(() => resolveRedisPubSubOptions(connection, { prefix: false as never }), named(/^RedisPubSub: prefix: must be a string$/))
})

void test('subscribe options: defaults, bufferSize, overflow, parse, sharded', () => {
  assert.deepEqual(resolveSubscribeOptions({}), { parse: undefined, bufferSize: 1024, overflow: 'drop-oldest', sharded: undefined })
  const parse = (v: unknown) => v as number
  assert.deepEqual(resolveSubscribeOptions({ parse, bufferSize: 5, overflow: 'error', sharded: true }), { parse, bufferSize: 5, overflow: 'error', sharded: true })
  assert.throws(() => resolveSubscribeOptions({ bufferSize: 0 }), named(/^bufferSize: must be a positive integer, got 0$/))
  assert.throws(() => resolveSubscribeOptions({ bufferSize: 1.5 }), named(/^bufferSize: must be a positive integer, got 1.5$/))
  assert.throws(() => resolveSubscribeOptions({ overflow: 'drop-newest' as never }), named(/^overflow: must be one of 'drop-oldest', 'error', got "drop-newest"$/))
  assert.throws(() => resolveSubscribeOptions({ parse: 'x' as never }), named(/^parse: must be a function$/))
  assert.throws(() => resolveSubscribeOptions({ sharded: 'yes' as never }), named(/^sharded: must be true or false, got "yes"$/))
  assert.deepEqual(resolveChannelOptions({ sharded: false }), { parse: undefined, sharded: false })
  assert.throws(() => resolveChannelOptions({ parse: 1 as never }), named(/^parse: must be a function$/))
})

void test('subscribe and channel reject bad options before subscribing', async () => {
  const pubsub = new MemoryPubSub({ bus: new MemoryPubSubBus() })
  await assert.rejects(pubsub.subscribe('c', { bufferSize: -1 }), named(/^bufferSize: must be a positive integer/))
  await assert.rejects(pubsub.pSubscribe('c*', { overflow: 'x' as never }), named(/^overflow: must be one of/))
  assert.throws(() => pubsub.channel('c', { sharded: 1 as never }), named(/^sharded: must be true or false/))
  await pubsub.close()
})
