// Option resolvers of the Redis layer: zod-validated, Durations resolved to ms, deprecated `…Ms` names still accepted,
// and every bad input an InvalidArgumentError (a malformed duration an InvalidDurationError) naming the field.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidDurationError } from '../../src/config/errors.ts'
import { overrideConnectionOptions, resolveConnectionOptions } from '../../src/redis/connection-options.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'

const invalid = (pattern: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && e.code === 'E_INVALID_ARGUMENT' && pattern.test(e.message)

void test('connection options: defaults in ms', () => {
  const o = resolveConnectionOptions({})
  assert.equal(o.kind, 'single')
  assert.deepEqual([o.commandTimeoutMs, o.connectTimeoutMs, o.minDelayMs, o.maxDelayMs, o.maxQueueLength], [1000, 3000, 50, 3000, 10_000])
  assert.equal(o.describe, 'localhost:6379')
  assert.equal(resolveConnectionOptions(undefined).describe, 'localhost:6379')
})

void test('connection options: Durations, and the deprecated …Ms names', () => {
  const o = resolveConnectionOptions({ commandTimeout: '2s', connectTimeout: 500, reconnect: { minDelay: '10ms', maxDelay: '1m' } })
  assert.deepEqual([o.commandTimeoutMs, o.connectTimeoutMs, o.minDelayMs, o.maxDelayMs], [2000, 500, 10, 60_000])
  const legacy = resolveConnectionOptions({ commandTimeoutMs: 4321, connectTimeoutMs: 800, reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
  assert.deepEqual([legacy.commandTimeoutMs, legacy.connectTimeoutMs, legacy.minDelayMs, legacy.maxDelayMs], [4321, 800, 20, 200])
  // Both names with one value is fine (options spread from two sources); two values are refused.
  assert.equal(resolveConnectionOptions({ commandTimeout: 300, commandTimeoutMs: 300 }).commandTimeoutMs, 300)
  assert.throws(() => resolveConnectionOptions({ commandTimeout: '1s', commandTimeoutMs: 300 }), invalid(/^commandTimeout: also given as commandTimeoutMs/))
})

void test('connection options: a duplicate override under either name replaces both', () => {
  const merged = overrideConnectionOptions({ url: 'redis://h:1', commandTimeout: '5s' }, { commandTimeoutMs: 4321 })
  assert.equal(resolveConnectionOptions(merged).commandTimeoutMs, 4321)
  assert.equal(resolveConnectionOptions(merged).describe, 'h:1')
})

void test('connection options: bad input names the field', () => {
  assert.throws(() => resolveConnectionOptions({ commandTimeout: 0 }), invalid(/^commandTimeout: must be positive, got 0$/))
  assert.throws(() => resolveConnectionOptions({ commandTimeoutMs: -1 }), (e: unknown) => e instanceof InvalidDurationError && /^commandTimeoutMs: /.test((e as Error).message))
  assert.throws(() => resolveConnectionOptions({ connectTimeout: 'soon' as never }), (e: unknown) => e instanceof InvalidDurationError && /^connectTimeout: "soon" is not a duration/.test((e as Error).message))
  assert.throws(() => resolveConnectionOptions({ reconnect: { maxDelay: 0 } }), invalid(/^reconnect\.maxDelay: must be positive/))
  assert.throws(() => resolveConnectionOptions({ maxQueueLength: 0 }), invalid(/^maxQueueLength: must be a positive integer, got 0$/))
  assert.throws(() => resolveConnectionOptions({ db: -1 }), invalid(/^db: must be an integer >= 0, got -1$/))
  assert.throws(() => resolveConnectionOptions({ port: 70_000 }), invalid(/^port: must be an integer from 1 to 65535/))
  assert.throws(() => resolveConnectionOptions({ url: 'http://x' }), invalid(/^url: protocol must be redis: or rediss:/))
  assert.throws(() => resolveConnectionOptions({ url: 'redis://h/x' }), invalid(/^url: database index "x"/))
  assert.throws(() => resolveConnectionOptions({ cluster: { nodes: [] } }), invalid(/^cluster\.nodes: give at least one host:port$/))
  assert.throws(() => resolveConnectionOptions({ cluster: { nodes: ['a:1', 'nope'] } }), invalid(/^cluster\.nodes\[1\]: "nope" is not host:port/))
  assert.throws(() => resolveConnectionOptions({ sentinel: { name: 'm', sentinels: [] } }), invalid(/^sentinel\.sentinels: give at least one host:port$/))
  assert.throws(() => resolveConnectionOptions({ waitForReady: 'yes' as never }), invalid(/^waitForReady: must be true or false/))
  assert.throws(() => resolveConnectionOptions(null as never), invalid(/^options: must be an object/))
})

void test('connection options: cluster, sentinel and TLS options pass through', () => {
  const cluster = resolveConnectionOptions({ cluster: { nodes: ['a:7000', { host: 'b', port: 7001 }] } })
  assert.deepEqual(cluster.clusterNodes, [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }])
  const ca = Buffer.from('x')
  const tls = { ca }
  assert.equal((resolveConnectionOptions({ tls }).tls as { ca: Buffer }).ca, ca)
  assert.equal(resolveConnectionOptions({ url: 'rediss://h:1' }).tls, true)
})
