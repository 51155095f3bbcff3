// The warm pools of the process and thread hosts (refill, preload, cold starts, workers that cannot boot, idle
// workers not holding the host open), closing leaves no child behind, and a child does not outlive its parent.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { ISOLATIONS, type WorkerHost } from '../../src/worker/index.ts'
import { ProcessHost, ThreadHost, createWorkerHost } from '../../src/worker/hosts.ts'
import { waitFor } from '../helpers/wait.ts'
import { fixture, processExists, startWatched } from '../helpers/worker-run.ts'
import { assertStatus } from '../contracts/worker-host-contract.ts'

const TEST = { timeout: 90_000 }

/** Pids whose parent is `ppid`, from /proc. */
async function childrenOf(ppid: number): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

async function timeToStart(host: WorkerHost): Promise<number> {
  const t0 = performance.now()
  const w = startWatched(host, { worker: fixture('normal'), attachments: { steps: 0 } })
  await w.waitForEvent((e) => e.type === 'hook' && e.hook === 'main', 'main entered')
  const ms = performance.now() - t0
  assertStatus(await w.run.done, 'finished')
  return ms
}

void describe('process host: warm pool', () => {
  void it('keeps poolSize children booted, replaces the one a task takes, and preloads modules', TEST, async (t) => {
    const host = new ProcessHost({ poolSize: 2, preload: [new URL('../fixtures/workers/preload-marker.ts', import.meta.url)] })
    try {
      await waitFor(() => host.warm === 2, 'two warm children', 30_000)
      const w = startWatched(host, { worker: fixture('normal'), attachments: { steps: 0 } })
      assertStatus(await w.run.done, 'finished')
      assert.equal(w.logged()[0]?.preloaded, 'yes')
      await waitFor(() => host.warm === 2, 'the pool refilled', 30_000)
      const warm = await timeToStart(host)
      t.diagnostic(`start → main entered, warm child: ${warm.toFixed(1)} ms`)
    } finally {
      await host.close()
    }
  })

  void it('poolSize 0 forks a child per task (cold start)', TEST, async (t) => {
    const host = new ProcessHost({ poolSize: 0 })
    try {
      assert.equal(host.warm, 0)
      const cold = await timeToStart(host)
      t.diagnostic(`start → main entered, cold child: ${cold.toFixed(1)} ms`)
      assert.equal(host.warm, 0)
    } finally {
      await host.close()
    }
  })

  void it('a child that cannot boot fails the task with its stderr', TEST, async () => {
    const host = new ProcessHost({ poolSize: 0, execArgv: ['--no-such-node-flag'] })
    try {
      const outcome = await startWatched(host, { worker: fixture('normal'), attachments: {} }).run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.code, 'E_WORKER_EXITED')
      assert.match(outcome.error.message, /^worker process exited with code \d+ before it was ready: .*no-such-node-flag/)
      assert.notEqual(outcome.exitCode, null)
    } finally {
      await host.close()
    }
  })

  void it('children start with the footprint V8 flags unless v8Tuning is none; execArgv comes after them', TEST, async () => {
    const v8Report = async (host: ProcessHost): Promise<{ execArgv: string[]; newSpaceBytes: number }> => {
      try {
        const w = startWatched(host, { worker: fixture('reports-v8'), attachments: {} })
        assertStatus(await w.run.done, 'finished')
        return w.logged().find((line) => line.msg === 'v8') as unknown as { execArgv: string[]; newSpaceBytes: number }
      } finally {
        await host.close()
      }
    }
    const lean = await v8Report(new ProcessHost({ poolSize: 0, execArgv: ['--stack-size=900'] }))
    assert.ok(lean.execArgv.includes('--max-semi-space-size=2'), lean.execArgv.join(' '))
    assert.ok(lean.execArgv.includes('--invocation-count-for-turbofan=30000'), lean.execArgv.join(' '))
    assert.equal(lean.execArgv.at(-1), '--stack-size=900')
    // two 2 MB semi-spaces at most, however much the worker allocated
    assert.ok(lean.newSpaceBytes <= 4 * 1024 * 1024, `new space ${lean.newSpaceBytes} bytes`)
    const plain = await v8Report(new ProcessHost({ poolSize: 0, v8Tuning: 'none' }))
    assert.deepEqual(plain.execArgv.filter((a) => a.startsWith('--max-semi-space') || a.startsWith('--invocation-count')), [])
    assert.throws(() => new ProcessHost({ v8Tuning: 'small' as 'none' }), { code: 'E_WORKER_ARGUMENT', message: /v8Tuning: must be one of footprint, none, got "small"/ })
  })

  void it('close() leaves no child process behind', TEST, async () => {
    const host = new ProcessHost({ poolSize: 2 })
    await waitFor(() => host.warm === 2, 'two warm children', 30_000)
    const w = startWatched(host, { worker: fixture('slow'), attachments: {} })
    await w.waitForEvent((e) => e.type === 'started', 'started')
    assert.ok((await childrenOf(process.pid)).includes(w.run.pid!))
    await host.close()
    await waitFor(async () => (await childrenOf(process.pid)).length === 0, 'no children left', 10_000)
  })
})

void describe('thread host: warm pool', () => {
  void it('keeps poolSize threads booted, replaces the one a task takes, and preloads modules', TEST, async (t) => {
    const host = new ThreadHost({ poolSize: 2, preload: [new URL('../fixtures/workers/preload-marker.ts', import.meta.url)] })
    try {
      await waitFor(() => host.warm === 2, 'two warm threads', 30_000)
      const w = startWatched(host, { worker: fixture('normal'), attachments: { steps: 0 } })
      assertStatus(await w.run.done, 'finished')
      assert.equal(w.logged()[0]?.preloaded, 'yes')
      await waitFor(() => host.warm === 2, 'the pool refilled', 30_000)
      t.diagnostic(`start → main entered, warm thread: ${(await timeToStart(host)).toFixed(1)} ms`)
    } finally {
      await host.close()
    }
  })

  void it('poolSize 0 starts a thread per task (cold start)', TEST, async (t) => {
    const host = new ThreadHost({ poolSize: 0 })
    try {
      t.diagnostic(`start → main entered, cold thread: ${(await timeToStart(host)).toFixed(1)} ms`)
      assert.equal(host.warm, 0)
    } finally {
      await host.close()
    }
  })
})

void describe('createWorkerHost', () => {
  void it('builds the host of each isolation, passing only its options', TEST, async () => {
    for (const isolation of ISOLATIONS) {
      const host = createWorkerHost(isolation, { poolSize: 0, graceMs: 1000, cacheFactory: () => 'inline cache' })
      try {
        assert.equal(host.isolation, isolation)
        assertStatus(await startWatched(host, { worker: fixture('normal'), attachments: { steps: 1 } }).run.done, 'finished')
      } finally {
        await host.close()
      }
    }
  })
})

void describe('idle pools', () => {
  void it('do not keep the host process alive', TEST, async () => {
    const child = fork(new URL('../fixtures/idle-hosts.ts', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
    let text = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
    clearTimeout(timer)
    assert.equal(text.trim(), 'warm 2 2')
    assert.deepEqual([code, signal], [0, null], 'exited by itself')
  })
})

void describe('process host: orphans', () => {
  void it('a worker child exits when its parent dies', TEST, async () => {
    const parent = fork(new URL('../fixtures/worker-host-parent.ts', import.meta.url), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
    let text = ''
    parent.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    let pid = 0
    try {
      const found = await waitFor(() => /child (\d+)/.exec(text), 'the child pid', 30_000)
      pid = Number(found[1])
      assert.ok(processExists(pid))
      parent.kill('SIGKILL')
      await once(parent, 'exit')
      await waitFor(() => !processExists(pid), 'the orphaned child gone', 10_000)
    } finally {
      parent.kill('SIGKILL')
      // Never leave a stray child behind a failed run.
      if (pid && processExists(pid)) process.kill(pid, 'SIGKILL')
    }
  })
})
