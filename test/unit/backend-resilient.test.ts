// ResilientBackend over ChaosBackend(MemoryBackend): timeouts and the circuit breaker, without servers.
// (The same facade over a real, SIGSTOPped / killed redis-server: test/integration/backend-resilient-redis.test.ts.)
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { ChaosBackend } from '../../src/cache/backends/chaos.ts'
import { MemoryBackend } from '../../src/cache/backends/memory.ts'
import { type BreakerStateChange, ResilientBackend } from '../../src/cache/backends/resilient.ts'
import { CircuitOpenError, InvalidArgumentError, RedisCommandError, RedisTimeoutError, RedisUnavailableError } from '../../src/redis/errors.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { backendContract } from '../contracts/backend-contract.ts'
import { sleep } from '../helpers/wait.ts'

backendContract('resilient(chaos(memory)), healthy', () => {
  const backend = new ResilientBackend(new ChaosBackend(new MemoryBackend({ logger: silentLogger })), { logger: silentLogger })
  return Promise.resolve({ backend, prefix: 'res:', close: () => backend.close() })
})

void describe('ResilientBackend', () => {
  let memory: MemoryBackend
  let chaos: ChaosBackend
  let changes: BreakerStateChange[]
  let resilient: ResilientBackend

  beforeEach(() => {
    memory = new MemoryBackend({ logger: silentLogger })
    chaos = new ChaosBackend(memory)
    changes = []
    resilient = new ResilientBackend(chaos, {
      timeout: 100,
      breaker: { failureThreshold: 3, openFor: 300 },
      logger: silentLogger,
      onStateChange: (change) => changes.push(change),
    })
  })

  afterEach(async () => {
    await resilient.close()
  })

  void it('a stalled call is cut off at the timeout with RedisTimeoutError, never later', async () => {
    chaos.alwaysStall()
    const started = Date.now()
    await assert.rejects(resilient.get('k'), (e: unknown) => e instanceof RedisTimeoutError && /100 ms/.test(e.message))
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 95, `cut off early: ${elapsed} ms`)
    // generous upper bound: it must not wait for the stalled call (which never ends)
    assert.ok(elapsed < 5000, `took ${elapsed} ms`)
    chaos.heal()
  })

  void it('innerBoundsCalls: single-command calls rely on the inner bound, multi-round-trip calls keep the timer', async () => {
    const trusting = new ResilientBackend(chaos, { timeout: 100, innerBoundsCalls: true, logger: silentLogger })
    chaos.alwaysStall()
    let settled = false
    const get = trusting.get('k').then(
      () => (settled = true),
      () => (settled = true),
    )
    await assert.rejects(trusting.getMany(['a', 'b']), RedisTimeoutError)
    await assert.rejects(trusting.increment('n', 1), RedisTimeoutError)
    assert.equal(settled, false, 'get waits for the inner backend, which is trusted to bound it')
    chaos.heal()
    await get
    await trusting.close()
  })

  void it('a slow but in-time call succeeds', async () => {
    await memory.set('k', 'v')
    chaos.alwaysStall(10)
    assert.equal(await resilient.get('k'), 'v')
    assert.equal(resilient.state, 'closed')
  })

  void it('opens after failureThreshold consecutive outage failures, then fails fast without calling the backend', async () => {
    chaos.alwaysThrow()
    for (let i = 0; i < 3; i++) await assert.rejects(resilient.get('k'), RedisUnavailableError)
    assert.equal(resilient.state, 'open')
    assert.deepEqual(
      changes.map((c) => `${c.from}->${c.to}`),
      ['closed->open'],
    )
    assert.ok(changes[0]!.error instanceof RedisUnavailableError)
    assert.equal(changes[0]!.failures, 3)
    const callsBefore = chaos.calls
    await assert.rejects(resilient.set('k', 'v'), (e: unknown) => e instanceof CircuitOpenError && e.code === 'E_CIRCUIT_OPEN' && /3 consecutive/.test(e.message))
    await assert.rejects(resilient.ping(), CircuitOpenError)
    assert.equal(chaos.calls, callsBefore, 'an open breaker keeps calls away from the backend')
  })

  void it('timeouts count as outages too', async () => {
    chaos.alwaysStall()
    for (let i = 0; i < 3; i++) await assert.rejects(resilient.get('k'), RedisTimeoutError)
    assert.equal(resilient.state, 'open')
    chaos.heal()
  })

  void it('a success in between resets the count; command errors do not count', async () => {
    chaos.alwaysThrow()
    await assert.rejects(resilient.get('k'), RedisUnavailableError)
    await assert.rejects(resilient.get('k'), RedisUnavailableError)
    chaos.heal()
    await resilient.get('k')
    assert.equal(resilient.failures, 0)
    chaos.alwaysThrow(new RedisCommandError('WRONGTYPE'))
    for (let i = 0; i < 5; i++) await assert.rejects(resilient.get('k'), RedisCommandError)
    assert.equal(resilient.state, 'closed')
    chaos.alwaysThrow()
    await assert.rejects(resilient.get('k'), RedisUnavailableError)
    await assert.rejects(resilient.get('k'), RedisUnavailableError)
    assert.equal(resilient.state, 'closed')
  })

  void it('half-open lets exactly one probe through; a successful probe closes the breaker', async () => {
    chaos.alwaysThrow()
    for (let i = 0; i < 3; i++) await assert.rejects(resilient.get('k'), RedisUnavailableError)
    await sleep(350)
    assert.equal(resilient.state, 'half-open')
    chaos.heal().alwaysStall(50)
    await memory.set('k', 'v')
    const probe = resilient.get('k')
    // while the probe is in flight every other call fails fast
    await assert.rejects(resilient.get('k'), (e: unknown) => e instanceof CircuitOpenError && /probe/.test(e.message))
    assert.equal(await probe, 'v')
    assert.equal(resilient.state, 'closed')
    chaos.heal()
    assert.equal(await resilient.get('k'), 'v')
    assert.deepEqual(
      changes.map((c) => `${c.from}->${c.to}`),
      ['closed->open', 'open->half-open', 'half-open->closed'],
    )
  })

  void it('a failed probe opens the breaker again for openFor', async () => {
    chaos.alwaysThrow()
    for (let i = 0; i < 3; i++) await assert.rejects(resilient.get('k'), RedisUnavailableError)
    await sleep(350)
    await assert.rejects(resilient.get('k'), RedisUnavailableError) // the probe
    assert.equal(resilient.state, 'open')
    await assert.rejects(resilient.get('k'), CircuitOpenError)
    assert.deepEqual(
      changes.map((c) => `${c.from}->${c.to}`),
      ['closed->open', 'open->half-open', 'half-open->open'],
    )
    chaos.heal()
    await sleep(350)
    assert.equal(await resilient.get('k'), undefined)
    assert.equal(resilient.state, 'closed')
  })

  void it('a late success of a call admitted before the breaker opened does not close it', async () => {
    const slowTimeout = new ResilientBackend(chaos, { timeout: 2000, breaker: { failureThreshold: 3, openFor: 60_000 }, logger: silentLogger })
    chaos.alwaysStall(300)
    const late = slowTimeout.get('k') // admitted while closed, succeeds after the breaker opened
    await sleep(20)
    chaos.alwaysThrow()
    for (let i = 0; i < 3; i++) await assert.rejects(slowTimeout.get('k'), RedisUnavailableError)
    assert.equal(slowTimeout.state, 'open')
    assert.equal(await late, undefined)
    assert.equal(slowTimeout.state, 'open', 'only the half-open probe may close the breaker')
    chaos.heal()
  })

  void it('breaker: false keeps the timeouts and never opens', async () => {
    const plain = new ResilientBackend(chaos, { timeout: 50, breaker: false, logger: silentLogger })
    chaos.alwaysThrow()
    for (let i = 0; i < 10; i++) await assert.rejects(plain.get('k'), RedisUnavailableError)
    assert.equal(plain.state, 'closed')
    chaos.alwaysStall()
    await assert.rejects(plain.get('k'), RedisTimeoutError)
    chaos.heal()
  })

  void it('onStateChange() listeners can be added and removed; a throwing listener is harmless', async () => {
    const seen: string[] = []
    const off = resilient.onStateChange((c) => seen.push(c.to))
    resilient.onStateChange(() => {
      throw new Error('listener bug')
    })
    chaos.alwaysThrow()
    for (let i = 0; i < 3; i++) await assert.rejects(resilient.get('k'), RedisUnavailableError)
    off()
    await sleep(350)
    chaos.heal()
    await resilient.get('k')
    assert.deepEqual(seen, ['open'])
  })

  void it('logs each transition once: one warning when opening, however many calls fail fast', async () => {
    const lines: Array<{ level: string; msg: string }> = []
    const capture = (level: string) => (objOrMsg: object | string, msg?: string) => lines.push({ level, msg: typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '') })
    const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error'), child: () => logger }
    const logged = new ResilientBackend(chaos, { timeout: 100, breaker: { failureThreshold: 2, openFor: 200 }, logger })
    chaos.alwaysThrow()
    for (let i = 0; i < 10; i++) await assert.rejects(logged.get('k'))
    assert.deepEqual(lines.map((l) => l.level), ['warn'])
    assert.match(lines[0]!.msg, /memory circuit breaker open after 2 consecutive failure\(s\).*failing fast for 200 ms/)
    chaos.heal()
    await sleep(250)
    await logged.get('k')
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info', 'info'])
    assert.match(lines[2]!.msg, /closed/)
  })

  void it('rejects bad options naming the field', () => {
    assert.throws(() => new ResilientBackend(memory, { timeout: 0 }), (e: unknown) => e instanceof InvalidArgumentError && /timeout/.test(e.message))
    assert.throws(() => new ResilientBackend(memory, { breaker: { failureThreshold: 0 } }), /breaker\.failureThreshold/)
    assert.throws(() => new ResilientBackend(memory, { breaker: { openFor: 'soon' as never } }), /breaker\.openFor/)
  })
})

void describe('ChaosBackend', () => {
  void it('alwaysStall(ms) delays calls, heal() releases stalled calls, alwaysThrow(error) uses that error', async () => {
    const memory = new MemoryBackend({ logger: silentLogger })
    const chaos = new ChaosBackend(memory)
    await chaos.set('k', 'v')
    chaos.alwaysStall(30)
    const started = Date.now()
    assert.equal(await chaos.get('k'), 'v')
    assert.ok(Date.now() - started >= 25)
    chaos.alwaysStall()
    const stalled = chaos.get('k')
    await sleep(20)
    chaos.heal()
    assert.equal(await stalled, 'v')
    const custom = new Error('custom')
    chaos.alwaysThrow(custom)
    await assert.rejects(chaos.get('k'), (e: unknown) => e === custom)
    chaos.heal()
    assert.equal(await chaos.get('k'), 'v')
    assert.equal(chaos.calls, 5)
    await chaos.close()
  })
})
