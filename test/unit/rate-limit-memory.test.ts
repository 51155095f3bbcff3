// The rate-limit contract on the memory store, and dense fast-check properties of every algorithm on a fake clock.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { silentLogger } from '../../src/config/logger.ts'
import { createRateLimiter, rateLimited } from '../../src/coordination/rate-limit/limiter.ts'
import { RATE_LIMIT_ALGORITHMS, type RateLimitAlgorithm } from '../../src/coordination/rate-limit/types.ts'
import { RateLimitExceededError } from '../../src/coordination/rate-limit/errors.ts'
import { createMemoryRateLimitStore } from '../../src/coordination/rate-limit/memory-rate-limit-store.ts'
import { rateLimitContract } from '../contracts/rate-limit-contract.ts'
import { checkWindowInvariants, type Allowed } from '../helpers/rate-limit-invariants.ts'

rateLimitContract('memory', () => {
  const store = createMemoryRateLimitStore()
  return Promise.resolve({ store, prefix: 'rl:', close: () => store.close() })
})

const steps = fc.array(fc.record({ dt: fc.nat({ max: 1500 }), costPick: fc.nat(), retry: fc.boolean() }), { minLength: 1, maxLength: 80 })

for (const algorithm of RATE_LIMIT_ALGORITHMS) {
  void describe(`${algorithm} properties (memory store, fake clock)`, () => {
    void it('never allows more than the limit in a window, verdicts are consistent, and waiting retryAfterMs is enough', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 10_000_000 }), steps, async (limit, windowMs, start, seq) => {
          let now = start
          const store = createMemoryRateLimitStore({ now: () => now })
          const rl = createRateLimiter({ store, algorithm, limit, window: windowMs, logger: silentLogger })
          const allowed: Allowed[] = []
          for (const step of seq) {
            now += step.dt
            const cost = 1 + (step.costPick % limit)
            const r = await rl.check('k', { cost })
            assert.ok(r.remaining >= 0 && r.remaining <= limit, `remaining ${r.remaining}`)
            assert.ok(r.resetMs >= 0, `resetMs ${r.resetMs}`)
            if (r.allowed) {
              assert.equal(r.retryAfterMs, 0)
              allowed.push({ t0: now, t1: now, cost })
            } else {
              assert.ok(r.retryAfterMs > 0, `a denial must say when to retry, got ${r.retryAfterMs}`)
              if (step.retry) {
                now += r.retryAfterMs
                const again = await rl.check('k', { cost })
                assert.equal(again.allowed, true, `retrying after ${r.retryAfterMs} ms must pass`)
                allowed.push({ t0: now, t1: now, cost })
              }
            }
          }
          checkWindowInvariants(algorithm, limit, windowMs, allowed)
        }),
        { numRuns: 300 },
      )
    })
  })
}

void it('the memory store sweeps expired counters', async () => {
  let now = 1_000_000
  const store = createMemoryRateLimitStore({ now: () => now, sweepEvery: 10 })
  const algorithms: RateLimitAlgorithm[] = [...RATE_LIMIT_ALGORITHMS]
  for (const algorithm of algorithms) {
    const rl = createRateLimiter({ store, algorithm, limit: 5, window: 100, logger: silentLogger })
    for (let i = 0; i < 20; i++) await rl.check(`k${i}`)
  }
  assert.equal(store.size, 80)
  now += 10_000
  const rl = createRateLimiter({ store, algorithm: 'fixed-window', limit: 5, window: 100, logger: silentLogger })
  for (let i = 0; i < 10; i++) await rl.check('fresh')
  assert.equal(store.size, 1)
})

void it('rateLimited wraps a function: calls pass up to the limit per key, then throw RateLimitExceededError', async () => {
  let now = 5_000_000
  const limiter = createRateLimiter({ store: createMemoryRateLimitStore({ now: () => now }), algorithm: 'fixed-window', limit: 2, window: '1m', logger: silentLogger })
  let calls = 0
  const search = rateLimited(limiter, (user: string, _q: string) => user, (_user: string, q: string) => {
    calls++
    return `results for ${q}`
  })
  assert.equal(await search('alice', 'a'), 'results for a')
  await search('alice', 'b')
  await assert.rejects(search('alice', 'c'), (error: unknown) => {
    assert.ok(error instanceof RateLimitExceededError)
    assert.equal(error.code, 'E_RATE_LIMITED')
    assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 60_000)
    assert.match(error.message, /rate limit exceeded \(2 per 60000 ms\); retry in \d+ s/)
    return true
  })
  assert.equal(calls, 2, 'a denied call must not run the function')
  assert.equal(await search('bob', 'x'), 'results for x')
  now += 60_000
  assert.equal(await search('alice', 'd'), 'results for d')
})
