// The failure half of the WorkerHost contract: every failure fixture that applies to the host, and freeze.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { WorkerHost } from '../../src/worker/index.ts'
import { fixture, processState, startWatched } from '../helpers/worker-run.ts'
import { sleep, waitFor } from '../helpers/wait.ts'
import { type HostCapabilities, abortIgnored, assertStatus, assertStoppedInTime } from './worker-host-contract.ts'

const TEST = { timeout: 90_000 }

export function failureContract(getHost: () => WorkerHost, caps: HostCapabilities): void {
  if (caps.preemptsBusyLoop) {
    void it('a synchronous busy loop is killed within grace + 100 ms', TEST, async (t) => {
      const w = startWatched(getHost(), { worker: fixture('busy-loop'), attachments: {} })
      await w.waitForEvent((e) => e.type === 'progress', 'spinning')
      const timed = await abortIgnored(w)
      const { outcome } = timed
      assertStatus(outcome, 'aborted')
      assert.equal(outcome.reason, 'cancelled')
      assert.equal(outcome.forced, 'kill')
      assertStoppedInTime(t, timed)
    })
  }

  if (caps.isolatesCrashes) {
    void it('an uncaught error fails the task with it; error and release still run; stderr has the stack', TEST, async () => {
      const w = startWatched(getHost(), { worker: fixture('uncaught-error'), attachments: {} })
      const outcome = await w.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.message, 'uncaught boom')
      assert.equal(outcome.exitCode, 1)
      assert.ok(outcome.stderrTail.some((line) => line.includes('uncaught boom')), outcome.stderrTail.join('\n'))
      assert.deepEqual(w.loggedHooks(), ['error', 'release'])
    })

    void it('a leaked unhandled rejection fails the task with it', TEST, async () => {
      const w = startWatched(getHost(), { worker: fixture('unhandled-rejection'), attachments: {} })
      const outcome = await w.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.message, 'leaked rejection')
      assert.deepEqual(w.loggedHooks(), ['error', 'release'])
    })

    void it('process.exit(3): failed with exit code 3 and the last stderr lines', TEST, async () => {
      const outcome = await startWatched(getHost(), { worker: fixture('exit-3'), attachments: {} }).run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.exitCode, 3)
      assert.equal(outcome.error.code, 'E_WORKER_EXITED')
      assert.match(outcome.error.message, /exited with code 3/)
      assert.deepEqual(outcome.stderrTail.slice(-1), ['about to exit with 3'])
    })

    void it('exiting early with code 0 is a failure, not a finish', TEST, async () => {
      const w = startWatched(getHost(), { worker: fixture('exits-early'), attachments: {} })
      const outcome = await w.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.exitCode, 0)
      assert.equal(outcome.error.code, 'E_WORKER_EXITED')
      assert.ok(!w.hooks().includes('after'))
    })

    void it('a stdout flood is captured into a bounded log; the task finishes', TEST, async () => {
      const w = startWatched(getHost(), { worker: fixture('floods-stdout'), attachments: { lines: 20_000 } })
      const outcome = await w.run.done
      assertStatus(outcome, 'finished')
      const tail = w.run.logTail()
      assert.equal(tail.length, 50)
      assert.equal(tail.at(-1), '[stdout] flood-end')
      const long = tail.find((line) => line.startsWith('[stdout] yyy'))
      assert.ok(long && long.endsWith('…[truncated]') && long.length < 2100, 'a very long line is cut')
      assert.equal(w.events.filter((e) => e.type === 'log' && e.source === 'stdout').length, 20_002)
    })

    void it('the cache factory module is imported only when ctx.cache() is called', TEST, async () => {
      const unused = await startWatched(getHost(), { worker: fixture('cache-user'), attachments: { useCache: false } }).run.done
      assert.ok(!unused.stderrTail.includes('cache factory module imported'), unused.stderrTail.join('\n'))
      const used = await startWatched(getHost(), { worker: fixture('cache-user'), attachments: { useCache: true } }).run.done
      assert.ok(used.stderrTail.includes('cache factory module imported'), used.stderrTail.join('\n'))
    })
  }

  if (caps.isolatesSignals) {
    for (const signal of ['SIGKILL', 'SIGSEGV'] as const) {
      void it(`killed by ${signal}: failed with the signal and the last stderr lines`, TEST, async () => {
        const outcome = await startWatched(getHost(), { worker: fixture('kills-self'), attachments: { signal } }).run.done
        assertStatus(outcome, 'failed')
        assert.equal(outcome.signal, signal)
        assert.equal(outcome.exitCode, null)
        assert.match(outcome.error.message, new RegExp(`killed by ${signal}`))
        assert.deepEqual(outcome.stderrTail.slice(-1), [`sending myself ${signal}`])
      })
    }
  }

  if (caps.freeze) {
    void it('freeze stops the child in place (SIGSTOP), thaw resumes it; abort while frozen still stops it', TEST, async () => {
      const w = startWatched(getHost(), { worker: fixture('freezable'), attachments: {} })
      await w.waitForEvent((e) => e.type === 'progress', 'first progress')
      const pid = w.run.pid!
      w.run.freeze()
      assert.equal(w.run.state, 'frozen')
      await waitFor(async () => (await processState(pid)) === 'T', 'the child stopped (state T)')
      // Reports already in the pipe may still arrive; after that, nothing while frozen.
      await sleep(200)
      const frozenCount = w.progress().length
      await sleep(300)
      assert.equal(w.progress().length, frozenCount, 'no progress while frozen')
      assert.equal(await processState(pid), 'T')

      w.run.thaw()
      assert.equal(w.run.state, 'running')
      await waitFor(() => w.progress().length > frozenCount, 'progress after thaw')
      assert.deepEqual(
        w.events.filter((e) => e.type === 'frozen' || e.type === 'thawed').map((e) => e.type),
        ['frozen', 'thawed'],
      )

      w.run.freeze()
      await waitFor(async () => (await processState(pid)) === 'T', 'stopped again')
      w.run.abort('paused')
      const outcome = await w.run.done
      assertStatus(outcome, 'aborted')
      assert.equal(outcome.reason, 'paused')
      assert.deepEqual(w.loggedHooks(), ['release'])
    })

    void it('freeze is refused for a class without freeze: true', TEST, async () => {
      const w = startWatched(getHost(), { worker: fixture('slow'), attachments: {} })
      await w.waitForEvent((e) => e.type === 'started', 'started')
      assert.throws(() => w.run.freeze(), { code: 'E_WORKER_FREEZE_UNSUPPORTED', message: /SlowWorker was not defined with freeze: true/ })
      w.run.abort('cancelled')
      await w.run.done
    })
  }
}
