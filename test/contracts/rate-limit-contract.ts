// The rate-limit contract: every RateLimitStore (memory; Redis 8, 7.0, cluster) must pass these, in real time.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sleep } from '../helpers/wait.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createRateLimiter, type RateLimiter } from '../../src/coordination/rate-limit/limiter.ts'
import { RATE_LIMIT_ALGORITHMS, type RateLimitAlgorithm, type RateLimitStore } from '../../src/coordination/rate-limit/types.ts'

export interface RateLimitStoreFixture {
  store: RateLimitStore
  /** A unique key prefix for this run. */
  prefix: string
  close(): Promise<void>
}

let counter = 0
const key = (label: string): string => `${label}:${++counter}`

export function rateLimitContract(name: string, setup: () => Promise<RateLimitStoreFixture>): void {
  void describe(`rate limit contract: ${name}`, () => {
    let fixture: RateLimitStoreFixture
    const limiter = (algorithm: RateLimitAlgorithm, limit: number, window: number | `${number}h` | `${number}s`): RateLimiter =>
      createRateLimiter({ store: fixture.store, algorithm, limit, window, keyPrefix: fixture.prefix, logger: silentLogger })
    before(async () => {
      fixture = await setup()
    })
    after(async () => {
      await fixture.close()
    })

    for (const algorithm of RATE_LIMIT_ALGORITHMS) {
      void it(`${algorithm}: allows up to the limit, then denies with a retry-after inside the window`, async () => {
        // A one-hour window: the chance of a window boundary falling inside these few calls is negligible.
        const rl = limiter(algorithm, 3, '1h')
        const k = key(algorithm)
        for (const remaining of [2, 1, 0]) {
          const r = await rl.check(k)
          assert.equal(r.allowed, true)
          assert.equal(r.limit, 3)
          assert.equal(r.remaining, remaining)
          assert.equal(r.retryAfterMs, 0)
          assert.ok(r.resetMs > 0 && r.resetMs <= 3_600_000, `resetMs ${r.resetMs}`)
          assert.equal(r.degraded, undefined)
        }
        const denied = await rl.check(k)
        assert.equal(denied.allowed, false)
        assert.equal(denied.remaining, 0)
        // The sliding-window counter may have to wait into the next window for this window's count to decay.
        const maxWait = algorithm === 'sliding-window' ? 7_200_000 : 3_600_000
        assert.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= maxWait, `retryAfterMs ${denied.retryAfterMs}`)
        if (algorithm === 'token-bucket') {
          // One token refills every window/limit = 20 minutes.
          assert.ok(denied.retryAfterMs > 1_190_000 && denied.retryAfterMs <= 1_200_000, `retryAfterMs ${denied.retryAfterMs}`)
        }
        if (algorithm === 'sliding-log') assert.ok(denied.retryAfterMs > 3_590_000, `retryAfterMs ${denied.retryAfterMs}`)
        // Other keys are independent; reset forgets.
        assert.equal((await rl.check(key(algorithm))).allowed, true)
        await rl.reset(k)
        assert.equal((await rl.check(k)).remaining, 2)
      })

      void it(`${algorithm}: a cost counts as that many units`, async () => {
        const rl = limiter(algorithm, 5, '1h')
        const k = key(`${algorithm}-cost`)
        const a = await rl.check(k, { cost: 3 })
        assert.equal(a.allowed, true)
        assert.equal(a.remaining, 2)
        const b = await rl.check(k, { cost: 3 })
        assert.equal(b.allowed, false)
        assert.equal(b.remaining, 2)
        const c = await rl.check(k, { cost: 2 })
        assert.equal(c.allowed, true)
        assert.equal(c.remaining, 0)
      })

      void it(`${algorithm}: after waiting retryAfterMs the check passes again`, async () => {
        const rl = limiter(algorithm, 2, 400)
        const k = key(`${algorithm}-retry`)
        let denied
        for (let i = 0; i < 100 && !denied; i++) {
          const r = await rl.check(k)
          if (!r.allowed) denied = r
        }
        assert.ok(denied, 'the limiter must deny once the limit is used up')
        assert.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= 800 + (algorithm === 'sliding-window' ? 400 : 0), `retryAfterMs ${denied.retryAfterMs}`)
        await sleep(denied.retryAfterMs + 15)
        assert.equal((await rl.check(k)).allowed, true)
      })
    }

    void it('concurrent checks (one batch) count exactly: on one key and across many keys', async () => {
      for (const algorithm of RATE_LIMIT_ALGORITHMS) {
        const rl = limiter(algorithm, 5, '1h')
        const k = key(`${algorithm}-burst`)
        const one = await Promise.all(Array.from({ length: 20 }, () => rl.check(k)))
        assert.equal(one.filter((r) => r.allowed).length, 5, `${algorithm}: exactly the limit passes a burst`)
        const keys = Array.from({ length: 10 }, (_, i) => key(`${algorithm}-many-${i}`))
        const many = await Promise.all(keys.flatMap((kk) => [kk, kk, kk, kk, kk, kk, kk].map((x) => rl.check(x).then((r) => [x, r.allowed] as const))))
        for (const kk of keys) assert.equal(many.filter(([x, ok]) => x === kk && ok).length, 5, `${algorithm}: key ${kk}`)
      }
    })

    void it('rejects bad input with a message naming the field', async () => {
      const store = fixture.store
      assert.throws(() => createRateLimiter({ store, limit: 0, window: '1s' }), /rate limit limit: must be a whole number >= 1, got 0/)
      assert.throws(() => createRateLimiter({ store, limit: -3, window: '1s' }), /limit: must be a whole number >= 1/)
      assert.throws(() => createRateLimiter({ store, limit: 1.5, window: '1s' }), /limit/)
      assert.throws(() => createRateLimiter({ store, algorithm: 'token-bucket', limit: 0, window: '1s' }), /bucket capacity/)
      assert.throws(() => createRateLimiter({ store, limit: 1, window: 0 }), /window: must be at least 1 ms/)
      assert.throws(() => createRateLimiter({ store, limit: 1, window: -1 }), /window/)
      assert.throws(() => createRateLimiter({ store, limit: 1, window: undefined as never }), /window: required/)
      assert.throws(() => createRateLimiter({ store, algorithm: 'leaky' as never, limit: 1, window: 1 }), /algorithm: must be one of/)
      assert.throws(() => createRateLimiter({ store, limit: 1, window: 1, onStoreError: 'ignore' as never }), /onStoreError: must be one of/)
      assert.throws(() => createRateLimiter({ store: undefined as never, limit: 1, window: 1 }), /store: required/)
      const rl = limiter('fixed-window', 3, '1s')
      await assert.rejects(rl.check(''), /rate limit key: must be a non-empty string/)
      await assert.rejects(rl.check('k', { cost: 0 }), /cost: must be a whole number from 1 to the limit \(3\)/)
      await assert.rejects(rl.check('k', { cost: 4 }), /cost/)
    })
  })
}
