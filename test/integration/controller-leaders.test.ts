// Two and three controller processes (test/fixtures/controller-process.ts) share one deployment: Redis 8 (lease, bus,
// state) and SQLite, with two Skald processes running the tasks. One leads; 1,000 tasks arrive in four waves; the
// leader is SIGKILLed after the first wave and the next one SIGSTOPped (longer than the lease) after the second,
// then let go. Every task runs exactly once: one dispatch line in all the controllers' output, epoch 1, one attempt,
// and no controller dispatches under a term that had ended.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'
import { baseEnv, killAll, spawnSkald } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const prefix = uniquePrefix('ctl-leaders')
const dir = mkdtempSync(join(tmpdir(), 'skalds-leaders-'))
const dbPath = join(dir, 'skalds.db')
const children: ChildProcess[] = []
let connection: RedisConnection
let store: SqliteTaskStore
const LEASE_MS = 3000

before(async () => {
  connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, logger: silentLogger })
  store = SqliteTaskStore.open({ path: dbPath })
})
after(async () => {
  killAll(children)
  await deleteKeysWithPrefix(connection, prefix)
  await connection.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Controller {
  name: string
  child: ChildProcess
  /** every line, with the time it arrived */
  lines: Array<{ at: number; text: string }>
}

function controller(name: string): Controller {
  const child = spawn(process.execPath, [new URL('../fixtures/controller-process.ts', import.meta.url).pathname], {
    env: { ...baseEnv(), REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_SQLITE_PATH: dbPath, TEST_CANDIDATE: name, TEST_LEASE_MS: String(LEASE_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const c: Controller = { name, child, lines: [] }
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    for (const line of text.split('\n').filter(Boolean)) c.lines.push({ at: performance.now(), text: line })
  })
  return c
}

const has = (c: Controller, prefix: string) => c.lines.some((l) => l.text.startsWith(prefix))
const dispatchedLines = (cs: readonly Controller[]) => cs.flatMap((c) => c.lines.filter((l) => l.text.startsWith('dispatched ')).map((l) => ({ c, at: l.at, parts: l.text.split(' ') })))

let wave = 0
async function createWave(n: number): Promise<string[]> {
  wave++
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = `lead-${process.pid}-w${wave}-${i}`
    await store.create({ id, className: 'InlineNormal', source: 'test', attachments: { steps: 1 } })
    ids.push(id)
  }
  return ids
}

void it('three controllers over 1,000 tasks: one leader at a time, takeovers after SIGKILL and SIGSTOP, no task dispatched twice', async (t) => {
  const controllers = ['c1', 'c2', 'c3'].map(controller)
  // On a failure midway, none may stay alive holding the lease the next test's controllers contend for.
  t.after(() => killAll(controllers.map((c) => c.child)))
  await waitFor(() => controllers.every((c) => has(c, 'ready')), 'three controllers ready', 20_000)
  await waitFor(() => controllers.filter((c) => has(c, 'elected')).length === 1, 'one leader', 20_000)
  const nodeEnv = { REDIS_URL: redis8Url(), REDIS_KEY_PREFIX: prefix, SKALDS_BUS: 'redis-streams', SKALDS_SQLITE_PATH: dbPath, TEST_CLASSES: 'InlineNormal', TEST_MAX_TASKS: '1000', REDIS_SYNC_PERIOD: '0.5' }
  await spawnSkald({ SKALD_ID: `lead-n1-${process.pid}`, SKALD_MODE: 'node', ...nodeEnv }, children)
  await spawnSkald({ SKALD_ID: `lead-n2-${process.pid}`, SKALD_MODE: 'node', ...nodeEnv }, children)
  const all: string[] = []
  const finished = async (ids: readonly string[]) => (await store.getMany([...ids])).filter((t) => t.lifecycleStatus === 'Finished').length === ids.length
  const leader = () => controllers.find((c) => c.child.exitCode === null && c.child.signalCode === null && lastLeadership(c) === 'elected')!

  // Wave 1, then SIGKILL the leader.
  all.push(...(await createWave(250)))
  await waitFor(() => finished(all), 'wave 1 finished', 60_000)
  const first = leader()
  first.child.kill('SIGKILL')
  const killedAt = performance.now()
  all.push(...(await createWave(250)))
  await waitFor(() => controllers.some((c) => c !== first && has(c, 'elected')), 'a new leader after SIGKILL', 20_000)
  const second = leader()
  console.log(`# SIGKILL of the leader → ${second.name} elected after ${(electedAt(second) - killedAt).toFixed(0)} ms (lease ${LEASE_MS} ms)`)
  await waitFor(() => finished(all), 'wave 2 finished', 60_000)

  // SIGSTOP the second leader for longer than its lease; wave 3 arrives meanwhile; then let it go.
  second.child.kill('SIGSTOP')
  const stoppedAt = performance.now()
  all.push(...(await createWave(250)))
  const third = controllers.find((c) => c !== first && c !== second)!
  await waitFor(() => has(third, 'elected'), 'the third controller elected while the second is stopped', 20_000)
  console.log(`# SIGSTOP of the leader → ${third.name} elected after ${(electedAt(third) - stoppedAt).toFixed(0)} ms`)
  await waitFor(() => finished(all), 'wave 3 finished', 60_000)
  second.child.kill('SIGCONT')
  const resumedAt = performance.now()
  await waitFor(() => second.lines.some((l) => l.at >= resumedAt && l.text.startsWith('demoted')), 'the woken ex-leader demotes itself', 10_000)
  all.push(...(await createWave(250)))
  await waitFor(() => finished(all), 'wave 4 finished', 60_000)

  // Exactly once: one dispatch line per task across every controller, one claim (epoch 1), one run. A task can
  // finish before its controller's `dispatched` line has come through the pipe: wait for the lines first.
  await waitFor(() => {
    const seen = new Set(dispatchedLines(controllers).map((l) => l.parts[1]))
    return all.every((id) => seen.has(id))
  }, 'every dispatch line to be read', 10_000)
  const lines = dispatchedLines(controllers)
  const perTask = new Map<string, number>()
  for (const l of lines) perTask.set(l.parts[1]!, (perTask.get(l.parts[1]!) ?? 0) + 1)
  assert.equal(all.length, 1000)
  assert.deepEqual(all.filter((id) => perTask.get(id) !== 1), [], 'every task dispatched exactly once')
  const tasks = await store.getMany(all)
  assert.deepEqual(tasks.filter((t) => t.runtime.epoch !== 1 || t.runtime.attempt !== 1).map((t) => `${t.id} epoch ${t.runtime.epoch} attempt ${t.runtime.attempt}`), [])
  // The woken ex-leader dispatched nothing after it woke (its term had ended).
  assert.deepEqual(lines.filter((l) => l.c === second && l.at >= resumedAt).map((l) => l.parts.join(' ')), [])
  // Terms only go up, in the order dispatches happened.
  const tokens = lines.sort((a, b) => a.at - b.at).map((l) => Number(l.parts[3]))
  assert.ok(tokens.every((t, i) => i === 0 || t >= tokens[i - 1]!), 'tokens never go back')
  console.log(`# dispatches per controller: ${controllers.map((c) => `${c.name} ${lines.filter((l) => l.c === c).length}`).join(', ')}`)
  await stopAll(controllers)
})

void it('two controllers: the SIGSTOPped leader wakes up demoted, and leads again (a newer term) once the other is SIGKILLed', async (t) => {
  const controllers = ['d1', 'd2'].map(controller)
  t.after(() => killAll(controllers.map((c) => c.child)))
  await waitFor(() => controllers.every((c) => has(c, 'ready')), 'two controllers ready', 20_000)
  await waitFor(() => controllers.filter((c) => has(c, 'elected')).length === 1, 'one leader', 20_000)
  const all: string[] = []
  const finished = async (ids: readonly string[]) => (await store.getMany([...ids])).filter((t) => t.lifecycleStatus === 'Finished').length === ids.length
  const first = controllers.find((c) => has(c, 'elected'))!
  const other = controllers.find((c) => c !== first)!
  all.push(...(await createWave(100)))
  await waitFor(() => finished(all), 'wave 1 finished', 60_000)
  first.child.kill('SIGSTOP')
  all.push(...(await createWave(100)))
  await waitFor(() => has(other, 'elected'), 'the other elected', 20_000)
  await waitFor(() => finished(all), 'wave 2 finished', 60_000)
  first.child.kill('SIGCONT')
  const resumedAt = performance.now()
  await waitFor(() => first.lines.some((l) => l.at >= resumedAt && l.text.startsWith('demoted')), 'the woken leader demotes itself', 10_000)
  other.child.kill('SIGKILL')
  await waitFor(() => first.lines.some((l) => l.at >= resumedAt && l.text.startsWith('elected')), 'the first leads again', 20_000)
  all.push(...(await createWave(100)))
  await waitFor(() => finished(all), 'wave 3 finished', 60_000)
  const lines = dispatchedLines(controllers)
  const perTask = new Map<string, number>()
  for (const l of lines) perTask.set(l.parts[1]!, (perTask.get(l.parts[1]!) ?? 0) + 1)
  assert.deepEqual(all.filter((id) => perTask.get(id) !== 1), [], 'every task dispatched exactly once')
  assert.deepEqual((await store.getMany(all)).filter((t) => t.runtime.epoch !== 1).map((t) => t.id), [])
  const terms = first.lines.filter((l) => l.text.startsWith('elected')).map((l) => Number(l.text.split(' ')[1]))
  assert.equal(terms.length, 2)
  assert.ok(terms[1]! > terms[0]!, `a newer term: ${terms.join(' → ')}`)
  await stopAll(controllers)
})

/** SIGTERM: each releases the lease, so the next test's controllers can be elected. */
async function stopAll(controllers: readonly Controller[]): Promise<void> {
  await Promise.all(
    controllers
      .filter((c) => c.child.exitCode === null && c.child.signalCode === null)
      .map((c) => {
        const exited = new Promise((resolve) => c.child.once('exit', resolve))
        c.child.kill('SIGTERM')
        return exited
      }),
  )
}

function lastLeadership(c: Controller): 'elected' | 'demoted' | undefined {
  const l = c.lines.filter((x) => x.text.startsWith('elected') || x.text.startsWith('demoted')).at(-1)
  return l ? (l.text.startsWith('elected') ? 'elected' : 'demoted') : undefined
}
function electedAt(c: Controller): number {
  return c.lines.filter((l) => l.text.startsWith('elected')).at(-1)!.at
}
