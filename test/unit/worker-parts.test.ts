// The worker runtime's pure parts: checkpoints as bounded JSON, stage retries, bounded logs, the protocol
// schemas, host options, and the context's argument checks.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TaskContext, type ContextOutlet } from '../../src/worker/context.ts'
import { resolveHostOptions } from '../../src/worker/host-options.ts'
import { toBoundedJson } from '../../src/worker/json.ts'
import { LineSplitter, LogTail } from '../../src/worker/log-tail.ts'
import { parseChildMessage, parseParentMessage } from '../../src/worker/protocol.ts'
import { backoffDelay, runStage, type StageEvent } from '../../src/worker/stage.ts'
import { rehearse } from '../../src/worker/rehearsal.ts'
import type { ChildMessage } from '../../src/worker/protocol.ts'

void describe('checkpoints', () => {
  void it('are detached JSON copies within the size bound', () => {
    const state = { i: 3, items: ['a'] }
    const { copy } = toBoundedJson(state, 100)
    state.items.push('b')
    assert.deepEqual(copy, { i: 3, items: ['a'] })
    assert.throws(() => toBoundedJson({ big: 'x'.repeat(200) }, 100), { code: 'E_WORKER_CHECKPOINT', message: /more than the 100 allowed/ })
  })

  void it('refuse what JSON would change silently', () => {
    for (const bad of [undefined, { n: NaN }, { d: new Date(0) }, { f: () => 1 }, [Infinity], { m: new Map() }]) {
      assert.throws(() => toBoundedJson(bad, 1000), { code: 'E_WORKER_CHECKPOINT' }, JSON.stringify(bad))
    }
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    assert.throws(() => toBoundedJson(cycle, 1000), { code: 'E_WORKER_CHECKPOINT' })
  })
})

void describe('stages', () => {
  const deps = (events: StageEvent[], signal = new AbortController().signal) => ({
    signal,
    sleep: () => Promise.resolve(),
    report: (event: StageEvent) => events.push(event),
  })

  void it('back off exponentially up to the cap, or by a function', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay({ initialMs: 100, factor: 3, maxMs: 1000 }, n)), [100, 300, 900, 1000])
    assert.equal(backoffDelay(undefined, 1), 200)
    assert.equal(backoffDelay((n) => n * 7, 3), 21)
    assert.throws(() => backoffDelay(() => -1, 1), { code: 'E_WORKER_ARGUMENT' })
  })

  void it('retry until an attempt succeeds, then return its value', async () => {
    const events: StageEvent[] = []
    const value = await runStage(deps(events), 'load', (attempt) => {
      if (attempt < 3) throw new Error(`no ${attempt}`)
      return attempt * 10
    }, { retries: 5 })
    assert.equal(value, 30)
    assert.deepEqual(events.map((e) => e.status), ['started', 'retrying', 'started', 'retrying', 'started', 'done'])
  })

  void it('never retry after an abort', async () => {
    const controller = new AbortController()
    const events: StageEvent[] = []
    await assert.rejects(
      runStage(deps(events, controller.signal), 'load', () => {
        controller.abort(new Error('stop'))
        throw new Error('aborted mid-stage')
      }, { retries: 5 }),
      { message: 'aborted mid-stage' },
    )
    assert.deepEqual(events.map((e) => e.status), ['started'])
  })
})

void describe('bounded logs', () => {
  void it('keep the last lines', () => {
    const tail = new LogTail(2)
    for (const line of ['a', 'b', 'c']) tail.push(line)
    assert.deepEqual(tail.lines(), ['b', 'c'])
  })

  void it('split chunks into lines and cut long ones without buffering them', () => {
    const lines: string[] = []
    const splitter = new LineSplitter(10, (line) => lines.push(line))
    splitter.write('ab')
    splitter.write('c\r\nde')
    splitter.write(`f\n${'x'.repeat(25)}`)
    splitter.write(`${'x'.repeat(1000)}\nlast`)
    splitter.end()
    assert.deepEqual(lines, ['abc', 'def', `${'x'.repeat(10)} …[truncated]`, 'last'])
  })
})

void describe('protocol', () => {
  void it('accepts well-formed messages both ways', () => {
    assert.equal(parseParentMessage({ type: 'abort', reason: 'paused' }).type, 'abort')
    assert.equal(parseChildMessage({ type: 'progress', value: 50, message: null }).type, 'progress')
  })

  void it('rejects malformed ones with E_WORKER_PROTOCOL naming the field', () => {
    assert.throws(() => parseParentMessage({ type: 'abort', reason: 'bored' }), { code: 'E_WORKER_PROTOCOL', message: /abort rejected: reason/ })
    assert.throws(() => parseChildMessage({ type: 'progress', value: 150, message: null }), { code: 'E_WORKER_PROTOCOL', message: /value/ })
    assert.throws(() => parseChildMessage({ type: 'hello' }), { code: 'E_WORKER_PROTOCOL' })
    assert.throws(() => parseChildMessage('text'), { code: 'E_WORKER_PROTOCOL' })
  })
})

void describe('host options', () => {
  void it('fill defaults and refuse a kill step that would outlive grace + 100 ms', () => {
    const options = resolveHostOptions()
    assert.equal(options.graceMs, 5000)
    assert.equal(options.killAfterMs, 30)
    assert.equal(options.cache, null)
    assert.throws(() => resolveHostOptions({ killAfterMs: 150 }), { code: 'E_WORKER_ARGUMENT', message: /killAfterMs/ })
    assert.deepEqual(resolveHostOptions({ cache: { module: new URL('file:///x.ts') } }).cache, { module: 'file:///x.ts', export: 'default' })
  })
})

void describe('context', () => {
  const outlet: ContextOutlet = { progress: () => {}, checkpoint: () => {}, logLine: () => {}, stage: () => {} }
  const settings = { taskId: 't', className: 'C', epoch: 0, resumedFrom: undefined, checkpointMaxBytes: 100, logLevel: 'silent', cache: () => Promise.resolve(1) }

  void it('checks progress values', () => {
    const ctx = new TaskContext(settings, {}, outlet)
    assert.throws(() => ctx.progress(101), { code: 'E_WORKER_ARGUMENT' })
    assert.throws(() => ctx.progress(NaN), { code: 'E_WORKER_ARGUMENT' })
    ctx.progress(0)
    ctx.progress(100, 'done')
  })

  void it('sleep rejects with the abort reason, at once when already aborted', async () => {
    const ctx = new TaskContext(settings, {}, outlet)
    const sleeping = ctx.sleep(60_000)
    ctx.abort('paused')
    ctx.abort('cancelled')
    await assert.rejects(sleeping, { code: 'E_WORKER_ABORTED', reason: 'paused' })
    await assert.rejects(ctx.sleep(1), { code: 'E_WORKER_ABORTED' })
    assert.equal(ctx.abortReason, 'paused')
  })
})

void describe('the pooled child’s rehearsal', () => {
  void it('runs its no-op worker through validation, every hook and the outcome, and leaves nothing running', async () => {
    const before = process.getActiveResourcesInfo().length
    const sent: ChildMessage[] = []
    await rehearse((m) => sent.push(m))
    const kinds = sent.map((m) => (m.type === 'hook' ? `hook:${m.hook}` : m.type))
    for (const kind of ['loaded', 'started', 'hook:before', 'hook:main', 'log', 'progress', 'hook:release']) assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(' ')}`)
    assert.deepEqual(sent.at(-1), { type: 'outcome', outcome: { status: 'finished' } })
    assert.equal(process.getActiveResourcesInfo().length, before, 'no timer, handle or request left behind')
  })
})
