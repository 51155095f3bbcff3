// The outcome policy of the node-mode manager, as a pure function: statuses, bounded retries, shutdown re-queues.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TaskOutcome } from '../../src/worker/host.ts'
import { decideOutcome, DEFAULT_RETRY, retryDelayMs } from '../../src/skald/task-outcome.ts'

const base = { taskId: 't', exitCode: null, signal: null, stderrTail: [], checkpoint: undefined, durationMs: 1 }
const failed = (code: string | null): TaskOutcome => ({ ...base, status: 'failed', error: { name: 'Error', message: 'boom', code, stack: null } })
const ctx = (over: Partial<Parameters<typeof decideOutcome>[1]> = {}): Parameters<typeof decideOutcome>[1] => ({
  task: { isPersistent: true }, attempt: 1, maxRetries: 0, policy: DEFAULT_RETRY, skaldId: 'n', checkpoint: { i: 3 }, now: 5, ...over,
})

void describe('decideOutcome', () => {
  void it('retries while attempt ≤ maxRetries, then fails; permanent worker errors never retry', () => {
    assert.equal(decideOutcome(failed(null), ctx({ attempt: 1, maxRetries: 2 })).kind, 'retry')
    assert.equal(decideOutcome(failed(null), ctx({ attempt: 2, maxRetries: 2 })).kind, 'retry')
    const last = decideOutcome(failed(null), ctx({ attempt: 3, maxRetries: 2 }))
    assert.ok(last.kind === 'write' && last.status === 'Failed')
    assert.equal(decideOutcome(failed('E_WORKER_ATTACHMENTS'), ctx({ maxRetries: 5 })).kind, 'write')
    assert.equal(decideOutcome(failed('E_WORKER_LOAD'), ctx({ maxRetries: 5 })).kind, 'write')
  })

  void it('backoff grows exponentially up to the cap', () => {
    const policy = { maxRetries: 9, initialMs: 100, factor: 3, maxMs: 1000 }
    assert.deepEqual([1, 2, 3, 4].map((a) => retryDelayMs(policy, a)), [100, 300, 900, 1000])
  })

  void it('shutdown re-queues a persistent task (never Cancelled) and fails a non-persistent one', () => {
    const shutdown: TaskOutcome = { ...base, status: 'aborted', reason: 'shutdown', forced: null }
    const p = decideOutcome(shutdown, ctx())
    assert.ok(p.kind === 'write')
    assert.deepEqual(p.patch, { lifecycleStatus: 'Created', executor: null, runtime: { checkpoint: { i: 3 } } })
    const n = decideOutcome(shutdown, ctx({ task: { isPersistent: false } }))
    assert.ok(n.kind === 'write' && n.status === 'Failed' && /^E_SKALD_SHUTDOWN/.test(n.patch.runtime?.lastError ?? ''))
  })

  void it('pause keeps the checkpoint; superseded writes nothing; the error text carries code and exit details', () => {
    const paused = decideOutcome({ ...base, status: 'aborted', reason: 'paused', forced: null }, ctx())
    assert.ok(paused.kind === 'write')
    assert.deepEqual(paused.patch, { lifecycleStatus: 'Paused', executor: null, runtime: { checkpoint: { i: 3 }, pausedAt: 5 } })
    assert.deepEqual(decideOutcome({ ...base, status: 'aborted', reason: 'superseded', forced: 'kill' }, ctx()), { kind: 'superseded' })
    const crashed = decideOutcome({ ...failed('E_WORKER_EXITED'), exitCode: 3, stderrTail: ['oops'] }, ctx())
    assert.ok(crashed.kind === 'write' && crashed.ending.status === 'failed')
    assert.equal(crashed.ending.error, 'E_WORKER_EXITED: boom (exit code 3; stderr: oops)')
  })
})
