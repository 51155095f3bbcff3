// Leadership across real OS processes on Redis 8 (test/fixtures/leadership-candidate.ts): three candidates; the
// leader SIGKILLed (another takes over within lease + retry), SIGSTOPped past its lease (another takes over; on
// SIGCONT the old one demotes before it acts again), and cut off from Redis alone (it demotes before another is
// elected). Across all processes, sorted by time, "acting" lines never go back to an older token.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const fixture = fileURLToPath(new URL('../fixtures/leadership-candidate.ts', import.meta.url))
const LEASE = Number(process.env.LEADERSHIP_TEST_LEASE_MS ?? 2000)
const RETRY = Number(process.env.LEADERSHIP_TEST_RETRY_MS ?? 100)
const MARGIN = Math.floor(LEASE / 5)
/** Room for a loaded, shared machine on top of the protocol's own bounds. */
const SLACK = 1500

interface Line {
  /** the child's index in its output */
  seq: number
  kind: 'ready' | 'elected' | 'demoted' | 'acting'
  token: number
  reason?: string
  /** Date.now() in the child when it printed (for acting: read before its isLeader check) */
  t: number
  /** performance.now() in this process when the line arrived */
  arrived: number
}

interface Candidate {
  id: string
  child: ChildProcess
  lines: Line[]
  exited: Promise<void>
}

function startCandidate(id: string, url: string, prefix: string): Candidate {
  const child = spawn(process.execPath, [fixture, url, prefix, id, String(LEASE), String(RETRY)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: Line[] = []
  createInterface({ input: child.stdout }).on('line', (text) => {
    const parts = text.split(' ')
    const kind = parts[0] as Line['kind']
    const t = Number(parts.at(-1))
    const line: Line =
      kind === 'demoted'
        ? { seq: lines.length, kind, reason: parts[1]!, token: Number(parts[2]), t, arrived: performance.now() }
        : { seq: lines.length, kind, token: kind === 'ready' ? 0 : Number(parts[1]), t, arrived: performance.now() }
    lines.push(line)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return { id, child, lines, exited }
}

const elected = (c: Candidate, afterArrival = 0): Line | undefined => c.lines.find((l) => l.kind === 'elected' && l.arrived >= afterArrival)
const currentLeader = (cs: Candidate[]): Candidate | undefined => {
  let best: { c: Candidate; token: number } | undefined
  for (const c of cs) {
    const last = c.lines.findLast((l) => l.kind === 'elected' || l.kind === 'demoted')
    if (last?.kind === 'elected' && (!best || last.token > best.token)) best = { c, token: last.token }
  }
  return best?.c
}

/** Every acting line of every candidate, by the time it was decided: tokens never decrease. */
function assertActingOrdered(cs: Candidate[]): void {
  const acting = cs.flatMap((c) => c.lines.filter((l) => l.kind === 'acting').map((l) => ({ ...l, id: c.id })))
  acting.sort((a, b) => a.t - b.t)
  for (let i = 1; i < acting.length; i++) {
    const prev = acting[i - 1]!
    const cur = acting[i]!
    assert.ok(cur.token >= prev.token, `${cur.id} acted with token ${cur.token} at ${cur.t} after ${prev.id} acted with token ${prev.token} at ${prev.t}`)
  }
}

async function stopAll(cs: Candidate[]): Promise<void> {
  for (const c of cs) {
    c.child.kill('SIGCONT')
    c.child.kill('SIGTERM')
  }
  const killer = setTimeout(() => cs.forEach((c) => c.child.kill('SIGKILL')), 5000)
  await Promise.all(cs.map((c) => c.exited))
  clearTimeout(killer)
}

void describe(`Leadership across processes (Redis 8, lease ${LEASE} ms, retry ${RETRY} ms)`, () => {
  let admin: RedisConnection
  const prefixes: string[] = []
  const prefix = (label: string): string => {
    const p = uniquePrefix(label)
    prefixes.push(p)
    return p
  }
  before(async () => {
    admin = await RedisConnection.connect({ url: redis8Url(), logger: silentLogger })
  })
  after(async () => {
    for (const p of prefixes) await deleteKeysWithPrefix(admin, p)
    await admin.close()
  })

  void it('the leader SIGKILLed: another is elected within lease + retry, with a larger token', async () => {
    const keys = prefix('leadkill')
    const cs = ['p1', 'p2', 'p3'].map((id) => startCandidate(id, redis8Url(), keys))
    try {
      await waitFor(() => cs.every((c) => c.lines.some((l) => l.kind === 'ready')), 'three candidates ready', 20_000)
      const takeovers: number[] = []
      let alive = cs
      for (let round = 0; round < 2; round++) {
        const leader = await waitFor(() => currentLeader(alive), 'a leader')
        await sleep(LEASE) // a few renewals
        const token = elected(leader)!.token
        leader.child.kill('SIGKILL')
        const killedAt = performance.now()
        await leader.exited
        alive = alive.filter((c) => c !== leader)
        const next = await waitFor(() => alive.find((c) => elected(c, killedAt)), 'another leader', LEASE + RETRY + SLACK + 5000, 5)
        const line = elected(next, killedAt)!
        takeovers.push(line.arrived - killedAt)
        assert.ok(line.token > token, `token ${line.token} after ${token}`)
      }
      console.log(`# takeover after SIGKILL of the leader: ${takeovers.map((ms) => ms.toFixed(0)).join(', ')} ms (lease ${LEASE}, renew every ${Math.floor(LEASE / 3)}, retry ${RETRY})`)
      for (const ms of takeovers) assert.ok(ms <= LEASE + RETRY * 1.2 + SLACK, `takeover took ${ms.toFixed(0)} ms`)
      assertActingOrdered(cs)
    } finally {
      await stopAll(cs)
    }
  })

  void it('the leader SIGSTOPped past its lease: another takes over; on SIGCONT the old one demotes before acting again', async () => {
    const keys = prefix('leadstop')
    const cs = ['p1', 'p2', 'p3'].map((id) => startCandidate(id, redis8Url(), keys))
    try {
      await waitFor(() => cs.every((c) => c.lines.some((l) => l.kind === 'ready')), 'three candidates ready', 20_000)
      const old = await waitFor(() => currentLeader(cs), 'a leader')
      await sleep(LEASE)
      const oldToken = elected(old)!.token
      old.child.kill('SIGSTOP')
      const stoppedAt = performance.now()
      const others = cs.filter((c) => c !== old)
      const next = await waitFor(() => others.find((c) => elected(c, stoppedAt)), 'another leader', LEASE + RETRY + SLACK + 5000, 5)
      const nextLine = elected(next, stoppedAt)!
      assert.ok(nextLine.token > oldToken)
      // Keep it stopped well past its lease, while the new leader acts.
      await waitFor(() => performance.now() - stoppedAt > LEASE + 500 && next.lines.some((l) => l.kind === 'acting' && l.token === nextLine.token), 'the new leader acting')
      const seenBefore = old.lines.length
      const contWall = Date.now()
      const contAt = performance.now()
      old.child.kill('SIGCONT')
      const demoted = await waitFor(() => old.lines.find((l) => l.kind === 'demoted' && l.token === oldToken), 'the old leader to demote', 5000, 5)
      assert.equal(demoted.reason, 'expired')
      // Nothing decided after the resume acts in the old term, and the demotion comes before any later acting line.
      const decidedAfter = old.lines.filter((l) => l.kind === 'acting' && l.t >= contWall)
      for (const l of decidedAfter) {
        assert.ok(l.seq > demoted.seq, `acting line ${l.seq} (token ${l.token}) printed before the demotion (${demoted.seq})`)
        assert.ok(l.token > oldToken, `acting with the old token ${l.token} after the resume`)
      }
      const actingAfterStop = old.lines.slice(seenBefore).filter((l) => l.kind === 'acting' && l.seq < demoted.seq)
      // At most one: a check made just before the stop, printed just after the resume (what fencing tokens are for).
      assert.ok(actingAfterStop.length <= 1, `${actingAfterStop.length} acting lines between the resume and the demotion`)
      await sleep(500)
      assert.equal(currentLeader(cs), next, 'the new leader keeps the lead')
      assertActingOrdered(cs)
      console.log(
        `# SIGSTOP of the leader: another elected ${(nextLine.arrived - stoppedAt).toFixed(0)} ms after the stop (token ${oldToken} → ${nextLine.token}); ` +
          `after SIGCONT the old one printed "demoted expired" ${(demoted.arrived - contAt).toFixed(0)} ms after SIGCONT, before any acting line`,
      )
    } finally {
      await stopAll(cs)
    }
  })

  void it("the leader's connection to Redis lost (its traffic dropped): it demotes within the lease, before another is elected", async () => {
    const keys = prefix('leadcut')
    const proxy = await TcpProxy.start(Number(new URL(redis8Url()).port))
    const first = startCandidate('p1', proxy.url, keys)
    const cs = [first]
    try {
      await waitFor(() => elected(first), 'the first candidate elected', 20_000)
      cs.push(...['p2', 'p3'].map((id) => startCandidate(id, redis8Url(), keys)))
      await waitFor(() => cs.every((c) => c.lines.some((l) => l.kind === 'ready')), 'three candidates ready', 20_000)
      await sleep(LEASE)
      const token = elected(first)!.token
      proxy.blackhole()
      const cutAt = performance.now()
      const cutWall = Date.now()
      const next = await waitFor(() => cs.find((c) => c !== first && elected(c, cutAt)), 'another leader', LEASE + RETRY + SLACK + 5000, 5)
      const nextLine = elected(next, cutAt)!
      const demoted = await waitFor(() => first.lines.find((l) => l.kind === 'demoted'), 'the cut-off leader to demote', 5000)
      assert.equal(demoted.reason, 'expired')
      assert.ok(demoted.t < nextLine.t, `demoted at ${demoted.t}, the next leader elected at ${nextLine.t}`)
      assert.ok(demoted.t - cutWall <= LEASE - MARGIN + SLACK, `demoted ${demoted.t - cutWall} ms after the cut`)
      assert.ok(nextLine.token > token)
      assertActingOrdered(cs)
      console.log(
        `# leader cut off from Redis: demoted ${demoted.t - cutWall} ms after the cut, another elected ${nextLine.t - cutWall} ms after it ` +
          `(lease ${LEASE}, margin ${MARGIN})`,
      )
    } finally {
      proxy.restore()
      await stopAll(cs)
      await proxy.close()
    }
  })
})
