// Lock safety across OS processes on real Redis: contenders never overlap and fencing tokens strictly increase;
// a holder paused past its TTL (SIGSTOP) loses the lock to another process and is told so when it wakes.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { sleep } from '../helpers/wait.ts'
import { fileURLToPath } from 'node:url'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { LockManager } from '../../src/coordination/lock/lock.ts'
import { createRedisLockStore } from '../../src/coordination/lock/redis-lock-store.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { redis8Url, uniquePrefix } from '../helpers/servers.ts'

const fixture = fileURLToPath(new URL('../fixtures/lock-contender.ts', import.meta.url))

interface Child {
  pid: number
  lines: AsyncIterator<string>
  exited: Promise<number | null>
  kill(signal: NodeJS.Signals): void
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { pid: child.pid!, lines, exited, kill: (signal) => child.kill(signal) }
}

async function nextEvent(child: Child): Promise<Record<string, unknown>> {
  const line = await child.lines.next()
  assert.ok(!line.done, 'child process ended without reporting')
  return JSON.parse(line.value) as Record<string, unknown>
}

void describe('lock safety across OS processes (Redis 8)', () => {
  let connection: RedisConnection
  const prefixes: string[] = []
  const prefix = (label: string): string => {
    const p = uniquePrefix(label)
    prefixes.push(p)
    return p
  }
  before(async () => {
    connection = await RedisConnection.connect({ url: redis8Url(), logger: silentLogger })
  })
  after(async () => {
    for (const p of prefixes) await deleteKeysWithPrefix(connection, p)
    await connection.close()
  })

  void it('six contending processes: no two critical sections overlap, fencing tokens strictly increase', async () => {
    const keys = prefix('lockproc')
    const children = Array.from({ length: 6 }, () => startChild(['contend', redis8Url(), keys, 'shared', '4000']))
    const done = await Promise.all(children.map((c) => nextEvent(c)))
    const codes = await Promise.all(children.map((c) => c.exited))
    assert.deepEqual(codes, [0, 0, 0, 0, 0, 0])
    const raw = await connection.send<string[]>(['LRANGE', connection.key(`${keys}log`), '0', '-1'])
    const sections = raw.map((s) => JSON.parse(s) as { pid: number; token: number; start: number; end: number; overlap: boolean })
    assert.equal(sections.length, done.reduce((n, d) => n + Number(d.sections), 0))
    assert.ok(sections.length >= 20, `expected many critical sections, got ${sections.length}`)
    assert.ok(new Set(sections.map((s) => s.pid)).size >= 2, 'several processes must have won the lock')
    assert.equal(sections.filter((s) => s.overlap).length, 0, 'the in-section counter saw two processes at once')
    sections.sort((a, b) => a.start - b.start)
    for (let i = 1; i < sections.length; i++) {
      const prev = sections[i - 1]!
      const cur = sections[i]!
      assert.ok(cur.start >= prev.end, `section of pid ${cur.pid} started at ${cur.start} before pid ${prev.pid}'s ended at ${prev.end}`)
      assert.ok(cur.token > prev.token, `fencing token ${cur.token} after ${prev.token} must be larger`)
    }
  })

  void it('a paused holder loses the lock to another process and is told so when it resumes', async () => {
    const keys = prefix('lockpause')
    const holder = startChild(['hold', redis8Url(), keys, 'job', '1000'])
    try {
      const acquired = await nextEvent(holder)
      assert.equal(acquired.event, 'acquired')
      holder.kill('SIGSTOP')
      const locks = new LockManager({ store: createRedisLockStore(connection, { keyPrefix: keys }), logger: silentLogger })
      // The paused holder cannot extend: its key expires and this process gets the lock with a larger token.
      const taker = await locks.acquire('job', { waitTimeout: '15s', ttl: '20s' })
      assert.ok(taker.fencingToken! > Number(acquired.token))
      await sleep(200)
      holder.kill('SIGCONT')
      const after = await nextEvent(holder)
      assert.equal(after.aborted, true, 'the resumed holder must see its signal aborted')
      assert.equal(after.reason, 'LockLostError')
      assert.equal(after.releaseError, 'LockLostError')
      assert.ok((after.logged as string[]).some((m) => /was lost/.test(m)), 'the loss must be logged')
      assert.equal(await taker.isOwned(), true, "the old holder's release must not free the new owner's lock")
      await taker.release()
      assert.equal(await holder.exited, 0)
    } finally {
      holder.kill('SIGCONT')
      holder.kill('SIGKILL')
    }
  })
})
