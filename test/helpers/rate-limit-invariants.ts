// The safety invariants of each rate-limit algorithm, checked over the allowed calls of a run.
// Each allowed call is known to have happened (by the limiter's clock) somewhere in [t0, t1]; with a fake clock
// t0 = t1. Each check below is implied by the invariant for every placement inside those bounds, so a real-time
// run cannot fail it by timing alone.
import assert from 'node:assert/strict'
import type { RateLimitAlgorithm } from '../../src/coordination/rate-limit/types.ts'

export interface Allowed {
  t0: number
  t1: number
  cost: number
}

export function checkWindowInvariants(algorithm: RateLimitAlgorithm, limit: number, windowMs: number, allowed: readonly Allowed[]): void {
  const n = allowed.length
  for (let i = 0; i < n; i++) {
    let units = 0
    for (let j = i; j < n; j++) {
      const a = allowed[i]!
      const b = allowed[j]!
      units += b.cost
      if (units <= limit) continue
      if (algorithm === 'sliding-log') {
        // More than `limit` units from a to b: they cannot all lie within one window span.
        assert.ok(b.t1 - a.t0 >= windowMs, `sliding-log: ${units} units within ${b.t1 - a.t0} ms < window ${windowMs} ms (limit ${limit})`)
      } else if (algorithm === 'fixed-window' || algorithm === 'sliding-window') {
        // More than `limit` units from a to b: they cannot all lie in one aligned window.
        assert.ok(Math.floor(b.t1 / windowMs) > Math.floor(a.t0 / windowMs), `${algorithm}: ${units} units in one aligned window of ${windowMs} ms (limit ${limit})`)
      } else {
        // Token bucket: at most capacity + refill over the span.
        const refill = (limit * (b.t1 - a.t0)) / windowMs
        assert.ok(units <= limit + refill + 1e-6, `token-bucket: ${units} units over ${b.t1 - a.t0} ms exceeds capacity ${limit} + refill ${refill}`)
      }
    }
  }
}
