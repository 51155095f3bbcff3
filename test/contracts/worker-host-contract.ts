// The WorkerHost contract: one suite, run against the inline, thread and process hosts. What a host cannot do
// (preempt a busy loop inline, freeze outside a process) is declared in its capabilities and tested as refused.
import assert from 'node:assert/strict'
import { type TestContext, after, before, describe, it } from 'node:test'
import type { TaskOutcome, WorkerHost, WorkerHostOptions } from '../../src/worker/index.ts'
import { type WatchedRun, fixture, startWatched } from '../helpers/worker-run.ts'
import { waitFor } from '../helpers/wait.ts'
import { failureContract } from './worker-host-failures.ts'

export interface HostCapabilities {
  /** stops a synchronous busy loop (kill step), process and thread */
  preemptsBusyLoop: boolean
  /** survives a worker's uncaught error, exit, leaked rejection, and captures its stdout/stderr: process and thread */
  isolatesCrashes: boolean
  /** a fatal signal the worker sends itself stays in its child: process */
  isolatesSignals: boolean
  /** SIGSTOP/SIGCONT in place: process */
  freeze: boolean
}

export type HostFactory = (options?: WorkerHostOptions) => WorkerHost

/** Grace period of the contract's hosts: short, so abort tests are quick; the kill step follows 20 ms later. */
export const GRACE_MS = 400
const KILL_AFTER_MS = 20

/**
 * Aborts a task that ignores its signal and times the escalation. The host's bound is that its last step
 * (SIGKILL, Worker.terminate, abandonment) is taken by grace + killAfterMs: no worker code runs after that.
 * Two things outside the host are measured and allowed for: its own timers firing late in a starved test
 * process (a probe timer set for the kill moment), and the OS reaping a killed process, which on a
 * saturated 2-core machine takes from a few ms up to a few hundred.
 */
export async function abortIgnored(w: WatchedRun): Promise<{ outcome: TaskOutcome; stepAt: number; goneAt: number; timerLateness: number }> {
  const t0 = performance.now()
  let timerLateness = 0
  const probeAt = GRACE_MS + KILL_AFTER_MS
  const probe = setTimeout(() => (timerLateness = Math.max(0, performance.now() - t0 - probeAt)), probeAt)
  w.run.abort('cancelled')
  const outcome = await w.run.done
  const goneAt = performance.now() - t0
  clearTimeout(probe)
  const steps = w.events.flatMap((e, i) =>
    e.type === 'log' && e.source === 'host' && e.line.startsWith('the worker did not stop within the grace period') ? [w.arrivals[i]! - t0] : [],
  )
  return { outcome, stepAt: steps.at(-1) ?? goneAt, goneAt, timerLateness }
}

/** OS reaping time allowed beyond the host's bound (see abortIgnored). */
const REAP_ALLOWANCE_MS = 1000

export function assertStoppedInTime(t: TestContext, timed: { stepAt: number; goneAt: number; timerLateness: number }): void {
  const { stepAt, goneAt, timerLateness } = timed
  t.diagnostic(`last escalation step at ${stepAt.toFixed(0)} ms, task gone at ${goneAt.toFixed(0)} ms, host timers ${timerLateness.toFixed(0)} ms late`)
  assert.ok(stepAt <= GRACE_MS + 100 + timerLateness, `the last escalation step came ${stepAt.toFixed(0)} ms after the abort`)
  assert.ok(goneAt <= GRACE_MS + 100 + timerLateness + REAP_ALLOWANCE_MS, `the task was gone ${goneAt.toFixed(0)} ms after the abort`)
}

export const contractHostOptions: WorkerHostOptions = {
  graceMs: GRACE_MS,
  killAfterMs: KILL_AFTER_MS,
  aliveIntervalMs: 100,
  progressIntervalMs: 0,
  logTailLines: 50,
  cache: { module: new URL('../fixtures/workers/cache-factory.ts', import.meta.url), export: 'createTestCache' },
}

const TEST = { timeout: 90_000 }

export function assertStatus<S extends TaskOutcome['status']>(outcome: TaskOutcome, status: S): asserts outcome is Extract<TaskOutcome, { status: S }> {
  assert.equal(outcome.status, status, `expected ${status}, got ${JSON.stringify(outcome)}`)
}

export function workerHostContract(name: string, makeHost: HostFactory, caps: HostCapabilities): void {
  void describe(`WorkerHost contract: ${name}`, () => {
    let host: WorkerHost
    before(() => {
      host = makeHost(contractHostOptions)
    })
    after(() => host.close())

    void it('runs before → main → after → release in order and finishes', TEST, async () => {
      const w = startWatched(host, { worker: fixture('normal'), attachments: { steps: 3, label: 'x' }, epoch: 7 })
      const outcome = await w.run.done
      assertStatus(outcome, 'finished')
      assert.deepEqual(w.hooks(), ['before', 'main', 'after', 'release'])
      assert.deepEqual(w.loggedHooks(), ['before', 'main', 'after', 'release'])
      const [beforeLine] = w.logged()
      assert.equal(beforeLine?.label, 'x')
      assert.equal(beforeLine?.epoch, 7)
      assert.equal(w.logged().find((l) => l.hook === 'after')?.stepsDone, 3, 'per-task state reaches every hook')
      assert.equal(w.logged().find((l) => l.hook === 'release')?.ending, 'finished')
      assert.equal(w.progress().at(-1)?.value, 100, 'the last progress report always arrives')
      assert.ok(w.progress().at(-1)!.message === 'step 3')
      assert.equal(w.events.filter((e) => e.type === 'started').length, 1)
      assert.equal(w.events.at(-1)?.type, 'done', 'done is the last event')
      assert.equal(w.run.state, 'done')
      if (caps.isolatesCrashes) assert.equal(outcome.exitCode, 0)
    })

    void it('main throws: error hook, release once, failed with the error', TEST, async () => {
      const w = startWatched(host, { worker: fixture('throws'), attachments: {} })
      const outcome = await w.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.message, 'boom from main')
      assert.deepEqual(w.hooks(), ['before', 'main', 'error', 'release'])
      assert.equal(w.logged().find((l) => l.hook === 'error')?.message, 'boom from main')
      assert.equal(w.logged().find((l) => l.hook === 'release')?.ending, 'failed')
    })

    void it('attachments that fail the schema: failed before any hook', TEST, async () => {
      const w = startWatched(host, { worker: fixture('normal'), attachments: { steps: 'many' } })
      const outcome = await w.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.code, 'E_WORKER_ATTACHMENTS')
      assert.match(outcome.error.message, /steps/)
      assert.deepEqual(w.hooks(), [])
    })

    void it('a module without that export: failed with E_WORKER_LOAD naming the worker exports there', TEST, async () => {
      const w = startWatched(host, { worker: { ...fixture('normal'), export: 'Nope' }, attachments: {} })
      const outcome = await w.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.code, 'E_WORKER_LOAD')
      assert.match(outcome.error.message, /default/)
    })

    void it('cancel: the signal fires with the reason, release runs once, aborted', TEST, async () => {
      const w = startWatched(host, { worker: fixture('slow'), attachments: {} })
      await w.waitForEvent((e) => e.type === 'hook' && e.hook === 'main', 'main entered')
      w.run.abort('cancelled')
      w.run.abort('paused') // the first reason wins
      const outcome = await w.run.done
      assertStatus(outcome, 'aborted')
      assert.equal(outcome.reason, 'cancelled')
      assert.equal(outcome.forced, null, 'a cooperative worker stops within the grace period')
      assert.deepEqual(w.hooks(), ['main', 'release'])
      const releases = w.logged().filter((l) => l.hook === 'release')
      assert.deepEqual(releases, [releases[0]])
      assert.equal(releases[0]?.reason, 'cancelled')
      assert.equal(releases[0]?.ending, 'aborted')
    })

    void it('hot update reaches the running worker; an invalid one is rejected and the old values kept', TEST, async () => {
      const w = startWatched(host, { worker: fixture('updating'), attachments: { rtspUrl: 'rtsp://a', fixFrame: 10 } })
      const shows = (fixFrame: number, after = 0) =>
        w.waitForEvent((e) => e.type === 'progress' && w.events.indexOf(e) >= after && JSON.parse(e.message!).fixFrame === fixFrame, `progress showing fixFrame ${fixFrame}`)
      await shows(10)
      assert.deepEqual(await w.run.update({ rtspUrl: 'rtsp://b', fixFrame: 20 }), { updateId: 1, accepted: true })
      await shows(20)
      const updateLine = w.logged().find((l) => l.hook === 'update')
      assert.equal(updateLine?.from, 10, 'the update hook sees the previous values in ctx.attachments')
      assert.equal(updateLine?.to, 20)

      const invalid = await w.run.update({ rtspUrl: 'rtsp://c', fixFrame: 'twenty' })
      assert.equal(invalid.accepted, false)
      assert.match(invalid.accepted ? '' : invalid.reason, /fixFrame/)
      const vetoed = await w.run.update({ rtspUrl: 'rtsp://d', fixFrame: 13 })
      assert.match(vetoed.accepted ? '' : vetoed.reason, /unlucky/)
      assert.ok(w.events.some((e) => e.type === 'update-rejected' && e.updateId === vetoed.updateId))
      const mark = w.events.length
      const next = await shows(20, mark)
      assert.equal(JSON.parse((next as { message: string }).message).rtspUrl, 'rtsp://b', 'old values kept after rejections')

      w.run.abort('cancelled')
      assertStatus(await w.run.done, 'aborted')
      const late = await w.run.update({ rtspUrl: 'rtsp://e', fixFrame: 1 })
      assert.equal(late.accepted, false)
    })

    void it('updates run between the awaits of main, never inside a synchronous section', TEST, async () => {
      const w = startWatched(host, { worker: fixture('sync-sections'), attachments: { n: 0 } })
      await w.waitForEvent((e) => e.type === 'progress', 'main ready')
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => w.run.update({ n })))
      assertStatus(await w.run.done, 'finished')
      const timeline = w.logged().find((l) => 'sections' in l) as { sections: Array<[number, number]>; updates: number[]; n: number }
      const accepted = results.filter((r) => r.accepted).length
      assert.ok(accepted >= 1, 'updates reach main before it ends')
      assert.equal(timeline.updates.length, accepted)
      if (accepted === 5) assert.equal(timeline.n, 5, 'the last accepted update is what main sees')
      for (const at of timeline.updates) {
        for (const [start, end] of timeline.sections) assert.ok(at <= start || at >= end, `update at ${at} inside the section ${start}–${end}`)
      }
    })

    void it('cooperative pause: checkpoint kept, release runs; resume starts from it', TEST, async () => {
      const first = startWatched(host, { worker: fixture('checkpointing'), attachments: { until: 10_000, stepMs: 10 } })
      await first.waitForEvent((e) => e.type === 'checkpoint' && (e.state as { i: number }).i >= 3, 'a third checkpoint')
      first.run.abort('paused')
      const paused = await first.run.done
      assertStatus(paused, 'aborted')
      assert.equal(paused.reason, 'paused')
      const at = (paused.checkpoint as { i: number }).i
      assert.ok(at >= 3)
      assert.deepEqual(first.run.lastCheckpoint, paused.checkpoint)
      assert.equal(first.logged().find((l) => l.hook === 'release')?.reason, 'paused')

      const second = startWatched(host, { worker: fixture('checkpointing'), attachments: { until: at + 3, stepMs: 5 }, resumedFrom: paused.checkpoint })
      const resumed = await second.run.done
      assertStatus(resumed, 'finished')
      assert.deepEqual(second.logged().find((l) => l.hook === 'before')?.resumedFrom, { i: at })
      const checkpoints = second.events.flatMap((e) => (e.type === 'checkpoint' ? [(e.state as { i: number }).i] : []))
      assert.deepEqual(checkpoints, [at + 1, at + 2, at + 3])
      assert.deepEqual(resumed.checkpoint, { i: at + 3 })
    })

    void it('stages retry with backoff, and fail with E_WORKER_STAGE when out of attempts', TEST, async () => {
      const ok = startWatched(host, { worker: fixture('staged'), attachments: { failures: 2, retries: 2 } })
      assertStatus(await ok.run.done, 'finished')
      const stages = ok.events.flatMap((e) => (e.type === 'stage' ? [`${e.name}#${e.attempt}:${e.status}`] : []))
      assert.deepEqual(stages, ['fetch#1:started', 'fetch#1:retrying', 'fetch#2:started', 'fetch#2:retrying', 'fetch#3:started', 'fetch#3:done', 'store#1:started', 'store#1:done'])
      assert.equal(ok.logged().find((l) => 'stored' in l)?.stored, 'payload@3')

      const failing = startWatched(host, { worker: fixture('staged'), attachments: { failures: 2, retries: 1 } })
      const outcome = await failing.run.done
      assertStatus(outcome, 'failed')
      assert.equal(outcome.error.code, 'E_WORKER_STAGE')
      assert.match(outcome.error.message, /fetch attempt 2 failed/)
    })

    void it('a deadline aborts the task with reason deadline', TEST, async () => {
      const w = startWatched(host, { worker: fixture('slow'), attachments: {}, deadlineAt: Date.now() + 300 })
      const outcome = await w.run.done
      assertStatus(outcome, 'aborted')
      assert.equal(outcome.reason, 'deadline')
    })

    void it('alive ticks while the worker runs', TEST, async () => {
      const w = startWatched(host, { worker: fixture('slow'), attachments: {} })
      await waitFor(() => w.events.filter((e) => e.type === 'alive').length >= 3, 'three alive ticks')
      w.run.abort('cancelled')
      await w.run.done
    })

    void it('an abort-ignoring worker that yields is stopped within grace + 100 ms; release still runs', TEST, async (t) => {
      const w = startWatched(host, { worker: fixture('ignores-abort'), attachments: { stopAfterMs: 3000 } })
      await w.waitForEvent((e) => e.type === 'progress', 'first progress')
      const timed = await abortIgnored(w)
      const { outcome } = timed
      assertStatus(outcome, 'aborted')
      assertStoppedInTime(t, timed)
      assert.ok(outcome.forced !== null)
      // The term step runs release; only a machine too loaded to run it before the kill step skips it.
      if (outcome.forced === 'term') assert.deepEqual(w.loggedHooks(), ['release'])
    })

    void it('ctx.cache() gives the host factory\'s object, created once; without a factory it fails with E_WORKER_NO_CACHE', TEST, async () => {
      const w = startWatched(host, { worker: fixture('cache-user'), attachments: { useCache: true } })
      assertStatus(await w.run.done, 'finished')
      const line = w.logged().find((l) => 'cache' in l)
      assert.equal(line?.cache, 'test-cache')
      assert.equal(line?.same, true)

      const bare = makeHost({ ...contractHostOptions, cache: null })
      try {
        const without = startWatched(bare, { worker: fixture('cache-user'), attachments: { useCache: true } })
        const outcome = await without.run.done
        assertStatus(outcome, 'failed')
        assert.equal(outcome.error.code, 'E_WORKER_NO_CACHE')
      } finally {
        await bare.close()
      }
    })

    if (!caps.freeze) {
      void it('freeze is refused (E_WORKER_FREEZE_UNSUPPORTED)', TEST, async () => {
        const w = startWatched(host, { worker: fixture('slow'), attachments: {} })
        await w.waitForEvent((e) => e.type === 'started', 'started')
        assert.throws(() => w.run.freeze(), { code: 'E_WORKER_FREEZE_UNSUPPORTED' })
        w.run.abort('cancelled')
        await w.run.done
      })
    }

    void it('close aborts running tasks with shutdown and refuses new ones', TEST, async () => {
      const own = makeHost(contractHostOptions)
      const w = startWatched(own, { worker: fixture('slow'), attachments: {} })
      await w.waitForEvent((e) => e.type === 'hook' && e.hook === 'main', 'main entered')
      assert.equal(own.running, 1)
      await own.close()
      const outcome = await w.run.done
      assertStatus(outcome, 'aborted')
      assert.equal(outcome.reason, 'shutdown')
      assert.equal(own.running, 0)
      assert.throws(() => own.start({ worker: fixture('slow'), taskId: 'late', attachments: {} }), { code: 'E_WORKER_HOST_CLOSED' })
    })

    failureContract(() => host, caps)
  })
}
