// Leadership on the memory lock store (the embedded engine): options, one leader among candidates, hand-over on
// stop(), self-demotion when renewals fail or hang, a blocked event loop, the term helpers.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLeadership, type DemotionReason, type Leadership, type LeadershipOptions, NotLeaderError } from '../../src/controller/leadership.ts'
import type { LockStore } from '../../src/coordination/lock/lock-store.ts'
import { createMemoryLockStore, type MemoryLockStore } from '../../src/coordination/lock/memory-lock-store.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { capturingLogger, type LogLine } from '../helpers/capture-logger.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

interface Candidate {
  leadership: Leadership
  events: Array<{ at: number; what: 'elected' | 'demoted'; token: number; reason?: DemotionReason }>
}

function candidate(store: LockStore, id: string, options: Partial<LeadershipOptions> = {}): Candidate {
  const events: Candidate['events'] = []
  const leadership = createLeadership({
    store,
    candidateId: id,
    lease: 600,
    retryEvery: 50,
    logger: silentLogger,
    onElected: (token) => events.push({ at: performance.now(), what: 'elected', token }),
    onDemoted: (reason, token) => events.push({ at: performance.now(), what: 'demoted', token, reason }),
    ...options,
  })
  return { leadership, events }
}

const leaders = (cs: Candidate[]): Candidate[] => cs.filter((c) => c.leadership.isLeader)

/** A store in front of `inner` that can be told to hang (never answer) or fail every call. */
function faultyStore(inner: MemoryLockStore): LockStore & { mode: 'ok' | 'hang' | 'fail' } {
  const gate = <T>(call: () => Promise<T>): Promise<T> => {
    if (wrapper.mode === 'hang') return new Promise<T>(() => {})
    if (wrapper.mode === 'fail') return Promise.reject(new Error('store down'))
    return call()
  }
  const wrapper: LockStore & { mode: 'ok' | 'hang' | 'fail' } = {
    kind: 'memory',
    mode: 'ok',
    tryAcquire: (key, owner, ttl) => gate(() => inner.tryAcquire(key, owner, ttl)),
    release: (key, owner) => gate(() => inner.release(key, owner)),
    extend: (key, owner, ttl) => gate(() => inner.extend(key, owner, ttl)),
    ownerOf: (key) => gate(() => inner.ownerOf(key)),
    close: () => Promise.resolve(),
  }
  return wrapper
}

void describe('Leadership options', () => {
  const store = createMemoryLockStore()

  void it('fills the defaults: lease 10 s, renew every lease/3, margin lease/5, retry 1 s, call timeout renew/2', () => {
    const l = createLeadership({ store })
    assert.deepEqual(l.timings, { leaseMs: 10_000, renewEveryMs: 3333, safetyMarginMs: 2000, retryEveryMs: 1000, callTimeoutMs: 1666 })
    assert.equal(l.name, 'skalds:controller:leader')
    assert.match(l.candidateId, new RegExp(`:${process.pid}$`))
    assert.equal(l.isLeader, false)
    assert.equal(l.token, undefined)
    assert.equal(l.leaderId, undefined)
    const custom = createLeadership({ store, lease: '3s', renewEvery: '500ms', safetyMargin: 0, retryEvery: 100, callTimeout: 200 })
    assert.deepEqual(custom.timings, { leaseMs: 3000, renewEveryMs: 500, safetyMarginMs: 0, retryEveryMs: 100, callTimeoutMs: 200 })
  })

  void it('rejects bad options naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^leadership store: required/],
      [{ store, lease: 0 }, /^leadership lease: must be a whole number of ms >= 1/],
      [{ store, lease: 1000, safetyMargin: 1000 }, /^leadership safetyMargin: must be shorter than lease \(1000 ms\)/],
      [{ store, lease: 1000, safetyMargin: 200, renewEvery: 800 }, /^leadership renewEvery: must be shorter than lease - safetyMargin \(800 ms\), got 800/],
      [{ store, name: '' }, /^leadership name: must be a non-empty string/],
      [{ store, onElected: 'x' }, /^leadership onElected: must be a function/],
    ]
    for (const [options, message] of cases) {
      assert.throws(() => createLeadership(options as LeadershipOptions), (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message))
    }
  })
})

void describe('Leadership on the memory lock store', () => {
  void it('three candidates: never two leaders at any check; stop() hands over at the next attempt, with a larger token', async () => {
    const store = createMemoryLockStore()
    const cs = ['a', 'b', 'c'].map((id) => candidate(store, id))
    await Promise.all(cs.map((c) => c.leadership.start()))
    try {
      const tokens: number[] = []
      for (let round = 0; round < 4; round++) {
        await waitFor(() => leaders(cs)[0], 'a leader')
        // Over several renewals, never two at once (none only if this loaded machine starved the renewals).
        const until = performance.now() + 700
        let checks = 0
        let none = 0
        while (performance.now() < until) {
          const n = leaders(cs).length
          assert.ok(n <= 1, `${n} leaders at once`)
          checks++
          if (n === 0) none++
          await sleep(5)
        }
        assert.ok(none < checks / 2, `no leader at ${none} of ${checks} checks`)
        const leader = await waitFor(() => leaders(cs)[0], 'a leader')
        tokens.push(leader.leadership.token!)
        const followers = cs.filter((c) => c !== leader)
        for (const f of followers) await waitFor(() => f.leadership.leaderId === leader.leadership.candidateId, 'followers to report who leads')
        const stoppedAt = performance.now()
        await leader.leadership.stop()
        assert.deepEqual(leader.events.at(-1)?.what, 'demoted')
        assert.equal(leader.events.at(-1)?.reason, 'stopped')
        const next = await waitFor(() => leaders(cs)[0], 'the next leader', 2000, 1)
        const handover = performance.now() - stoppedAt
        assert.ok(handover < 50 * 1.2 + 500, `hand-over took ${handover.toFixed(0)} ms (retryEvery 50)`)
        assert.notEqual(next, leader)
        await leader.leadership.start()
      }
      tokens.push(leaders(cs)[0]!.leadership.token!)
      for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens strictly increase: ${tokens.join(', ')}`)
    } finally {
      await Promise.all(cs.map((c) => c.leadership.stop()))
    }
  })

  for (const mode of ['hang', 'fail'] as const) {
    void it(`renewals that ${mode === 'hang' ? 'never answer' : 'fail'}: the leader demotes (expired) at lease - margin, before a follower can be elected`, async () => {
      const inner = createMemoryLockStore()
      const leaderStore = faultyStore(inner)
      const lines: LogLine[] = []
      const a = candidate(leaderStore, 'a', { logger: capturingLogger(lines) })
      await a.leadership.start()
      assert.equal(a.leadership.isLeader, true)
      const b = candidate(inner, 'b')
      await b.leadership.start()
      try {
        // Let one renewal succeed, then cut the leader off right after it.
        const electedAt = a.events[0]!.at
        await waitFor(() => performance.now() > electedAt + a.leadership.timings.renewEveryMs + 20, 'the first renewal')
        leaderStore.mode = mode
        const cutAt = performance.now()
        await waitFor(() => b.events.find((e) => e.what === 'elected'), 'the follower elected', 5000, 5)
        const demoted = a.events.find((e) => e.what === 'demoted')!
        const elected = b.events.find((e) => e.what === 'elected')!
        assert.equal(demoted.reason, 'expired')
        assert.ok(demoted.at < elected.at, 'the old leader demoted before the new one was elected')
        const { leaseMs, safetyMarginMs } = a.leadership.timings
        // The last confirmed renewal started before the cut: demotion at most lease - margin after the cut (plus
        // timer lateness on a loaded machine), and never earlier than lease - margin after the election.
        assert.ok(demoted.at - cutAt <= leaseMs - safetyMarginMs + 300, `demoted ${(demoted.at - cutAt).toFixed(0)} ms after the cut`)
        assert.ok(demoted.at - electedAt >= leaseMs - safetyMarginMs, `demoted ${(demoted.at - electedAt).toFixed(0)} ms after the election, too early`)
        assert.ok(elected.token > demoted.token)
        if (mode === 'fail') assert.ok(lines.some((l) => l.level === 'warn' && /renewal failed/.test(l.msg)), 'failed renewals are logged')
        assert.ok(lines.some((l) => l.level === 'warn' && /demoted \(token \d+, expired\)/.test(l.msg)), 'the demotion is logged')
        // Back online, the old leader is a follower and sees the new one.
        leaderStore.mode = 'ok'
        await waitFor(() => a.leadership.leaderId === 'b', 'the old leader to see the new one')
        assert.equal(a.leadership.isLeader, false)
      } finally {
        leaderStore.mode = 'ok'
        await Promise.all([a.leadership.stop(), b.leadership.stop()])
      }
    })
  }

  void it('a renewal that finds the lease gone demotes with reason lost', async () => {
    const store = createMemoryLockStore()
    const a = candidate(store, 'a')
    await a.leadership.start()
    try {
      assert.equal(a.leadership.isLeader, true)
      await store.close() // drops every lock: the next renewal finds nothing
      await waitFor(() => a.events.find((e) => e.what === 'demoted'), 'the demotion', 2000, 5)
      assert.equal(a.events.find((e) => e.what === 'demoted')!.reason, 'lost')
      // It contends again and wins (nobody else), with a larger token.
      await waitFor(() => a.leadership.isLeader, 're-election')
      assert.ok(a.leadership.token! > a.events[0]!.token)
    } finally {
      await a.leadership.stop()
    }
  })

  void it('a blocked event loop past the lease: the first isLeader check demotes (onDemoted first) and returns false', async () => {
    const store = createMemoryLockStore()
    const order: string[] = []
    const a = candidate(store, 'a', { onDemoted: (reason) => order.push(`demoted ${reason}`) })
    const b = candidate(store, 'b')
    await a.leadership.start()
    await b.leadership.start()
    try {
      assert.equal(a.leadership.isLeader, true)
      const token = a.leadership.token!
      const until = performance.now() + a.leadership.timings.leaseMs + 50
      while (performance.now() < until) {
        // busy: no timer, no renewal runs (as if the process were stopped)
      }
      const leads = a.leadership.isLeader
      order.push(`isLeader ${leads}`)
      assert.deepEqual(order, ['demoted expired', 'isLeader false'])
      assert.equal(a.leadership.token, undefined)
      assert.throws(() => a.leadership.assertLeader(token), (e: unknown) => e instanceof NotLeaderError && e.code === 'E_NOT_LEADER')
      const next = await waitFor(() => leaders([a, b])[0], 'a new leader')
      assert.ok(next.leadership.token! > token)
    } finally {
      await Promise.all([a.leadership.stop(), b.leadership.stop()])
    }
  })

  void it('assertLeader, signal and whileLeader follow the term', async () => {
    const store = createMemoryLockStore()
    const a = candidate(store, 'a')
    const b = candidate(store, 'b')
    await a.leadership.start()
    await b.leadership.start()
    try {
      assert.throws(() => b.leadership.assertLeader(), (e: unknown) => e instanceof NotLeaderError && /b does not lead/.test(e.message))
      await assert.rejects(b.leadership.whileLeader(() => 1), NotLeaderError)
      assert.equal(b.leadership.signal, undefined)
      const token = a.leadership.assertLeader()
      assert.equal(a.leadership.assertLeader(token), token)
      assert.equal(await a.leadership.whileLeader(({ token: t }) => t), token)
      // The term ends while the action runs: its signal aborts and whileLeader rejects even though fn resolved.
      const signal = a.leadership.signal!
      const running = a.leadership.whileLeader(async ({ signal: s }) => {
        await new Promise((resolve) => s.addEventListener('abort', resolve))
        return 'done'
      })
      await a.leadership.stop()
      await assert.rejects(running, (e: unknown) => e instanceof NotLeaderError && /ended while the action ran/.test(e.message))
      assert.equal(signal.aborted, true)
      assert.ok(signal.reason instanceof NotLeaderError)
      await waitFor(() => b.leadership.isLeader, 'b to lead')
      await a.leadership.start()
      assert.equal(a.leadership.isLeader, false)
      assert.throws(() => b.leadership.assertLeader(token), /term \d+ is over|does not lead/)
    } finally {
      await Promise.all([a.leadership.stop(), b.leadership.stop()])
    }
  })

  void it('a listener that throws is logged, not propagated; start and stop are idempotent, the later one wins', async () => {
    const store = createMemoryLockStore()
    const lines: LogLine[] = []
    const l = createLeadership({
      store,
      lease: 600,
      retryEvery: 50,
      logger: capturingLogger(lines),
      onElected: () => {
        throw new Error('boom')
      },
      onDemoted: () => {
        throw new Error('boom')
      },
    })
    await l.start()
    await l.start()
    assert.equal(l.isLeader, true)
    await l.stop()
    await l.stop()
    assert.equal(l.isLeader, false)
    assert.deepEqual(
      lines.filter((x) => x.level === 'error').map((x) => x.msg),
      ['leadership skalds:controller:leader: onElected threw', 'leadership skalds:controller:leader: onDemoted threw'],
    )
    assert.equal(await store.ownerOf('skalds:controller:leader'), undefined, 'stop() released the lease')
    // start() while stop() runs: the later call wins.
    await l.start()
    const token = l.token!
    const stopping = l.stop()
    await l.start()
    await stopping
    assert.equal(l.isLeader, true)
    assert.equal(l.token, token)
    await l.stop()
    assert.equal(l.isLeader, false)
  })
})
