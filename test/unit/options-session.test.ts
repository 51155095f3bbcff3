// Option resolvers of the session stores and the Fastify plugin. Bad input is an InvalidArgumentError naming the field.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveSessionPluginOptions } from '../../src/coordination/session/fastify.ts'
import { MemorySessionStore, resolveMemorySessionStoreOptions } from '../../src/coordination/session/memory.ts'
import { resolveRedisSessionStoreOptions } from '../../src/coordination/session/redis.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const named = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message)

void test('session store options: defaults, Durations, the deprecated sweepIntervalMs', () => {
  assert.deepEqual(resolveMemorySessionStoreOptions({}), { ttlMs: 86_400_000, sweepIntervalMs: 60_000 })
  assert.deepEqual(resolveMemorySessionStoreOptions({ ttl: '30m', sweepInterval: '5s' }), { ttlMs: 1_800_000, sweepIntervalMs: 5000 })
  assert.equal(resolveMemorySessionStoreOptions({ sweepIntervalMs: 100 }).sweepIntervalMs, 100)
  assert.throws(() => resolveMemorySessionStoreOptions({ sweepInterval: 0 }), named(/^MemorySessionStore: sweepInterval: must be positive, got 0$/))
  assert.throws(() => new MemorySessionStore({ ttl: 0 }), named(/^MemorySessionStore: ttl: must be at least 1 ms, got 0$/))
  assert.deepEqual(resolveRedisSessionStoreOptions({ ttl: '1h' }), { ttlMs: 3_600_000, prefix: 'sess:' })
  assert.throws(() => resolveRedisSessionStoreOptions({ prefix: 3 as never }), named(/^RedisSessionStore: prefix: must be a string$/))
})

void test('session plugin options', () => {
  const store = new MemorySessionStore()
  const o = resolveSessionPluginOptions({ store, cookie: { secure: false } })
  assert.deepEqual({ ...o, store: undefined }, {
    store: undefined,
    cookieName: 'sid',
    bearer: true,
    defaultMode: 'required',
    attributes: { path: '/', domain: undefined, secure: false, sameSite: 'Lax' },
    rolling: true,
  })
  assert.throws(() => resolveSessionPluginOptions({} as never), named(/^store: a SessionStore is required$/))
  assert.throws(() => resolveSessionPluginOptions({ store, cookieName: 'bad name' }), named(/^cookieName: "bad name" is not a valid cookie name$/))
  assert.throws(() => resolveSessionPluginOptions({ store, defaultMode: 'maybe' as never }), named(/^defaultMode: must be 'required', 'optional' or false/))
  assert.throws(() => resolveSessionPluginOptions({ store, cookie: { sameSite: 'lax' as never } }), named(/^cookie.sameSite: must be one of 'Lax', 'Strict', 'None'/))
  void store.close()
})
