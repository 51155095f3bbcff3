// Leadership on real Redis (Redis 8 and the cluster), candidates in this process, one connection each: exactly
// one leader, hand-over on stop(), a leader cut off from Redis (a TCP proxy drops its traffic) demoting before a
// follower is elected, and Redis itself killed and restarted.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createLeadership, type DemotionReason, type Leadership } from '../../src/controller/leadership.ts'
import { createRedisLockStore } from '../../src/coordination/lock/redis-lock-store.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { redis8Url, redisClusterNodes, type RedisTarget, uniquePrefix } from '../helpers/servers.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const LEASE = 2000
const RETRY = 100

interface Candidate {
  id: string
  connection: RedisConnection
  leadership: Leadership
  events: Array<{ at: number; what: 'elected' | 'demoted'; token: number; reason?: DemotionReason }>
}

function candidate(connection: RedisConnection, id: string): Candidate {
  const events: Candidate['events'] = []
  const leadership = createLeadership({
    store: createRedisLockStore(connection),
    candidateId: id,
    lease: LEASE,
    retryEvery: RETRY,
    logger: silentLogger,
    onElected: (token) => events.push({ at: performance.now(), what: 'elected', token }),
    onDemoted: (reason, token) => events.push({ at: performance.now(), what: 'demoted', token, reason }),
  })
  return { id, connection, leadership, events }
}

const leaders = (cs: Candidate[]): Candidate[] => cs.filter((c) => c.leadership.isLeader)
const first = (c: Candidate, what: 'elected' | 'demoted', after = 0) => c.events.find((e) => e.what === what && e.at >= after)

async function stopAll(cs: Candidate[]): Promise<void> {
  await Promise.all(cs.map((c) => c.leadership.stop()))
  await Promise.all(cs.map((c) => c.connection.close()))
}

const targets: RedisTarget[] = [
  { name: 'redis8', url: redis8Url() },
  { name: 'cluster', clusterNodes: redisClusterNodes() },
]

for (const target of targets) {
  void describe(`Leadership on ${target.name}`, () => {
    const prefix = uniquePrefix('leader')
    let admin: RedisConnection
    before(async () => {
      admin = await connectTarget(target, prefix)
    })
    after(async () => {
      await deleteKeysWithPrefix(admin, prefix)
      await admin.close()
    })

    void it('three candidates: never two leaders at any check; stop() hands over within one attempt; tokens strictly increase', async () => {
      const cs = await Promise.all(['a', 'b', 'c'].map(async (id) => candidate(await connectTarget(target, prefix), id)))
      await Promise.all(cs.map((c) => c.leadership.start()))
      try {
        const tokens: number[] = []
        const handovers: number[] = []
        for (let round = 0; round < 3; round++) {
          await waitFor(() => leaders(cs)[0], 'a leader')
          // Several renewals: never two at once (none only if this loaded machine starved the renewals).
          const until = performance.now() + 1500
          let checks = 0
          let none = 0
          while (performance.now() < until) {
            const n = leaders(cs).length
            assert.ok(n <= 1, `${n} leaders at once`)
            checks++
            if (n === 0) none++
            await sleep(10)
          }
          assert.ok(none < checks / 2, `no leader at ${none} of ${checks} checks`)
          const leader = await waitFor(() => leaders(cs)[0], 'a leader')
          tokens.push(leader.leadership.token!)
          for (const f of cs.filter((c) => c !== leader)) {
            await waitFor(() => f.leadership.leaderId === leader.id, `${f.id} to report ${leader.id} as the leader`)
          }
          const stoppedAt = performance.now()
          await leader.leadership.stop()
          await waitFor(() => leaders(cs)[0], 'the next leader', 5000, 2)
          handovers.push(performance.now() - stoppedAt)
          await leader.leadership.start()
        }
        tokens.push(leaders(cs)[0]!.leadership.token!)
        for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens strictly increase: ${tokens.join(', ')}`)
        console.log(`# ${target.name}: hand-over after stop(): ${handovers.map((ms) => ms.toFixed(0)).join(', ')} ms (retryEvery ${RETRY} ms)`)
        for (const ms of handovers) assert.ok(ms < RETRY * 1.2 + 500, `hand-over took ${ms.toFixed(0)} ms`)
      } finally {
        await stopAll(cs)
      }
    })
  })
}

void describe('Leadership: the leader loses Redis', () => {
  const prefix = uniquePrefix('leadercut')
  let admin: RedisConnection
  before(async () => {
    admin = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  })
  after(async () => {
    await deleteKeysWithPrefix(admin, prefix)
    await admin.close()
  })

  void it('cut off alone (its traffic dropped): it demotes within the lease, before a follower is elected', async () => {
    const proxy = await TcpProxy.start(Number(new URL(redis8Url()).port))
    const a = candidate(await RedisConnection.connect({ url: proxy.url, keyPrefix: prefix, logger: silentLogger }), 'a')
    await a.leadership.start()
    assert.equal(a.leadership.isLeader, true, 'the first candidate leads')
    const others = await Promise.all(['b', 'c'].map(async (id) => candidate(await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger }), id)))
    await Promise.all(others.map((c) => c.leadership.start()))
    try {
      await sleep(LEASE) // some renewals through the proxy
      assert.equal(a.leadership.isLeader, true)
      proxy.blackhole()
      const cutAt = performance.now()
      const next = await waitFor(() => leaders(others)[0], 'a follower elected', 10_000, 2)
      const elected = first(next, 'elected')!
      const demoted = first(a, 'demoted')!
      assert.equal(demoted.reason, 'expired')
      assert.ok(demoted.at < elected.at, 'the cut-off leader demoted before the follower was elected')
      assert.ok(demoted.at - cutAt <= LEASE - a.leadership.timings.safetyMarginMs + 500, `demoted ${(demoted.at - cutAt).toFixed(0)} ms after the cut`)
      assert.ok(elected.token > demoted.token)
      console.log(
        `# cut off: old leader demoted ${(demoted.at - cutAt).toFixed(0)} ms after the cut, new leader elected after ${(elected.at - cutAt).toFixed(0)} ms ` +
          `(lease ${LEASE}, margin ${a.leadership.timings.safetyMarginMs}, gap ${(elected.at - demoted.at).toFixed(0)} ms)`,
      )
      proxy.restore()
      await waitFor(() => a.leadership.leaderId === next.id, 'the old leader, reconnected, to follow the new one', 15_000)
      assert.equal(leaders([a, ...others]).length, 1)
    } finally {
      await stopAll([a, ...others])
      await proxy.close()
    }
  })

  void it('Redis killed: the leader demotes within the lease, nobody leads while it is down, one leads again after a restart', async () => {
    const server = await RedisProcess.start()
    const cs = await Promise.all(['a', 'b', 'c'].map(async (id) => candidate(await RedisConnection.connect({ url: server.url, logger: silentLogger }), id)))
    try {
      await Promise.all(cs.map((c) => c.leadership.start()))
      const leader = await waitFor(() => leaders(cs)[0], 'a leader')
      const tokenBefore = leader.leadership.token!
      await sleep(LEASE)
      await server.kill()
      const killedAt = performance.now()
      await waitFor(() => first(leader, 'demoted'), 'the leader to demote', 10_000, 2)
      const demotedAfter = first(leader, 'demoted')!.at - killedAt
      assert.equal(first(leader, 'demoted')!.reason, 'expired')
      assert.ok(demotedAfter <= LEASE - leader.leadership.timings.safetyMarginMs + 500, `demoted ${demotedAfter.toFixed(0)} ms after the kill`)
      const downUntil = performance.now() + LEASE
      while (performance.now() < downUntil) {
        assert.equal(leaders(cs).length, 0, 'nobody leads while Redis is down')
        await sleep(20)
      }
      await server.restart()
      const restartedAt = performance.now()
      const next = await waitFor(() => leaders(cs)[0], 'a leader after the restart', 15_000)
      console.log(
        `# Redis killed: leader demoted ${demotedAfter.toFixed(0)} ms after the kill (lease ${LEASE}); ` +
          `re-elected ${(performance.now() - restartedAt).toFixed(0)} ms after the restart with token ${next.leadership.token} (before: ${tokenBefore}; ` +
          'a Redis without persistence forgets the fencing counter)',
      )
    } finally {
      await stopAll(cs)
      await server.kill()
    }
  })
})
