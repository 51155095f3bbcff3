// The Skald state contract: every SkaldStateBackend (memory; Redis 8, Redis 7.0 with emulated hash-field TTL, the
// cluster) must show the same observable state through the reader.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ApplyResult, SkaldStateBackend, StateOp } from '../../src/state/backend.ts'
import { createSkaldStatePublisher, type SkaldStatePublisherOptions } from '../../src/state/publisher.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'

export interface SkaldStateFixture {
  backend: SkaldStateBackend
  close(): Promise<void>
}

let counter = 0
function id(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`
}

/** Wraps a backend, counting apply() calls: one call is one round trip. */
function counting(backend: SkaldStateBackend): SkaldStateBackend & { applies: number } {
  const wrapped = Object.create(backend) as SkaldStateBackend & { applies: number }
  wrapped.applies = 0
  wrapped.apply = (ops: readonly StateOp[]): Promise<ApplyResult> => {
    wrapped.applies++
    return backend.apply(ops)
  }
  return wrapped
}

/** Reads tasks a few at a time: thousands of parallel reads would overflow a client's command queue. */
async function readTasks(reader: ReturnType<typeof createSkaldStateReader>, ids: readonly string[]) {
  const out = []
  for (let i = 0; i < ids.length; i += 50) out.push(...(await Promise.all(ids.slice(i, i + 50).map((t) => reader.task(t)))))
  return out
}

const fixedLoad: SkaldStatePublisherOptions['sampleLoad'] = (base) => ({ ...base, cpuPercent: 1.5, rssMb: 80 })

/** Wraps a backend, keeping every op applied (in order). */
function recording(backend: SkaldStateBackend): SkaldStateBackend & { ops: StateOp[] } {
  const wrapped = Object.create(backend) as SkaldStateBackend & { ops: StateOp[] }
  wrapped.ops = []
  wrapped.apply = (ops: readonly StateOp[]): Promise<ApplyResult> => {
    wrapped.ops.push(...ops)
    return backend.apply(ops)
  }
  return wrapped
}

const schemaA = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { until: { type: 'integer', minimum: 1 } }, required: ['until'] }

export function skaldStateContract(name: string, setup: () => Promise<SkaldStateFixture>): void {
  void describe(`skald state contract: ${name}`, () => {
    let fixture: SkaldStateFixture
    before(async () => {
      fixture = await setup()
    })
    after(async () => {
      await fixture.close()
    })
    const reader = () => createSkaldStateReader(fixture.backend)

    void it('register writes the Python registration: int ms, mode, heartbeat, class list, all-task, TTLs', async () => {
      const skaldId = id('node')
      const publisher = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad })
      const before = Date.now()
      await publisher.register({ skaldId, mode: 'edge', classNames: ['B', 'A'], capacity: 4, classCapacity: { A: 1 } })
      const node = (await reader().node(skaldId))!
      assert.ok(node, 'node registered')
      assert.ok(node.activityMs! >= before - 1000 && node.activityMs! <= Date.now() + 1000, `activity ${node.activityMs}`)
      assert.ok(node.activityTtlMs! > 3_590_000 && node.activityTtlMs! <= 3_600_000, `activity ttl ${node.activityTtlMs}`)
      assert.equal(node.mode, 'edge')
      assert.ok(node.heartbeat! >= 0 && node.heartbeat! <= 199)
      assert.deepEqual(node.classNames, ['B', 'A'])
      assert.deepEqual(node.allTasks.tasks, [])
      assert.deepEqual(node.load, {
        capacity: 4,
        running: 0,
        classes: { B: { capacity: null, running: 0 }, A: { capacity: 1, running: 0 } },
        draining: false,
        cpuPercent: 1.5,
        rssMb: 80,
        timestamp: node.load!.timestamp,
      })
      assert.equal((await reader().activity()).get(skaldId), node.activityMs)
      await publisher.close()
    })

    void it('a tick heartbeats every running task: 0..199, a new value on every write, EX 8; all-task lists them', async () => {
      const skaldId = id('node')
      const publisher = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad })
      await publisher.register({ skaldId, mode: 'node', classNames: ['Video'] })
      const tasks = [id('t'), id('t'), id('t')]
      for (const taskId of tasks) await publisher.startRun({ taskId, className: 'Video', epoch: 1 })
      const seen = new Map<string, number[]>(tasks.map((t) => [t, []]))
      for (let i = 0; i < 15; i++) {
        const report = await publisher.tick()
        assert.equal(report.tasks, 3)
        for (const taskId of tasks) {
          const state = await reader().task(taskId)
          assert.ok(state.heartbeat >= 0 && state.heartbeat <= 199, `value ${state.heartbeat}`)
          assert.ok(state.heartbeatTtlMs! > 0 && state.heartbeatTtlMs! <= 8000, `ttl ${state.heartbeatTtlMs}`)
          seen.get(taskId)!.push(state.heartbeat)
        }
      }
      for (const values of seen.values()) {
        for (let i = 1; i < values.length; i++) assert.notEqual(values[i], values[i - 1], `values ${values.join(',')}`)
        // Any 5 consecutive samples are distinct (the Python controller's ">3 distinct of 5" liveness rule).
        for (let i = 0; i + 5 <= values.length; i++) assert.equal(new Set(values.slice(i, i + 5)).size, 5)
      }
      const node = (await reader().node(skaldId))!
      assert.deepEqual(node.allTasks.tasks.map((t) => t.id).sort(), [...tasks].sort())
      assert.ok(node.allTasks.tasks.every((t) => t.className === 'Video'))
      assert.equal(node.load!.running, 3)
      assert.equal(node.load!.classes.Video!.running, 3)
      await publisher.endRun(tasks[0]!, 1, { status: 'finished' })
      // the light read a dispatcher makes when a run ends: the tasks and load as the full read has them
      const light = (await reader().nodeLoad(skaldId))!
      assert.deepEqual(light.allTasks.tasks.map((t) => t.id).sort(), tasks.slice(1).sort())
      assert.equal(light.load!.running, 2)
      assert.deepEqual(light, (({ allTasks, load }) => ({ allTasks, load }))((await reader().node(skaldId))!))
      assert.equal(await reader().nodeLoad(id('never-registered')), undefined)
      await publisher.tick()
      assert.equal((await reader().node(skaldId))!.allTasks.tasks.length, 2)
      await publisher.close()
    })

    void it('startRun clears an earlier run\'s terminal code and exception; endRun writes 200 / -1 / -2 for an hour', async () => {
      const publisher = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad })
      const [ok, bad, cancelled, released] = [id('t'), id('t'), id('t'), id('t')]
      for (const taskId of [ok, bad, cancelled, released]) await publisher.startRun({ taskId, className: 'C', epoch: 3 })
      for (const taskId of [ok, bad, cancelled, released]) {
        const state = await reader().task(taskId)
        assert.equal(state.exception, '')
        assert.ok(state.heartbeatPresent && state.heartbeat >= 0 && state.heartbeat <= 199)
      }
      await publisher.endRun(ok, 3, { status: 'finished' })
      await publisher.endRun(bad, 3, { status: 'failed', message: 'boom: disk full' })
      await publisher.endRun(cancelled, 3, { status: 'cancelled' })
      await publisher.endRun(released, 3, { status: 'released' })
      const [sOk, sBad, sCancelled, sReleased] = await Promise.all([ok, bad, cancelled, released].map((t) => reader().task(t)))
      assert.equal(sOk!.heartbeat, 200)
      assert.ok(sOk!.heartbeatTtlMs! > 3_590_000, `terminal ttl ${sOk!.heartbeatTtlMs}`)
      assert.equal(sBad!.heartbeat, -1)
      assert.equal(sBad!.exception, 'boom: disk full')
      assert.equal(sCancelled!.heartbeat, -2)
      assert.ok(sReleased!.heartbeat >= 0 && sReleased!.heartbeat <= 199 && sReleased!.heartbeatTtlMs! <= 8000, 'released: running value left to lapse')
      assert.equal(publisher.runs.length, 0)
      // A new run of the same task id starts clean.
      await publisher.startRun({ taskId: bad, className: 'C', epoch: 4 })
      const rerun = await reader().task(bad)
      assert.ok(rerun.heartbeat >= 0 && rerun.heartbeat <= 199)
      assert.equal(rerun.exception, '')
      await publisher.close()
    })

    void it('a terminal code survives a late running write (raw op and another publisher alike)', async () => {
      const taskId = id('t')
      const owner = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad })
      // A second node that still believes it runs the task (no epoch knowledge): its tick must be refused.
      const late = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad, isCurrent: () => true })
      await late.startRun({ taskId, className: 'C', epoch: 1 })
      await owner.startRun({ taskId, className: 'C', epoch: 1 })
      await owner.endRun(taskId, 1, { status: 'cancelled' })
      const report = await late.tick()
      assert.deepEqual(report.refused, [taskId])
      const raw = await fixture.backend.apply([{ op: 'beat', key: `task:${taskId}:heartbeat`, value: 7, ttlMs: 8000 }])
      assert.deepEqual(raw.refusedBeats, [0])
      const state = await reader().task(taskId)
      assert.equal(state.heartbeat, -2)
      assert.ok(state.heartbeatTtlMs! > 3_590_000)
      await owner.close()
      await late.close()
    })

    void it('a beat equal to the stored value is bumped, so the value always changes', async () => {
      const key = `task:${id('t')}:heartbeat`
      await fixture.backend.apply([{ op: 'beat', key, value: 199, ttlMs: 8000 }])
      await fixture.backend.apply([{ op: 'beat', key, value: 199, ttlMs: 8000 }])
      assert.equal((await fixture.backend.getString(key))!.value, '0')
    })

    void it('epochs fence writes: a task whose epoch moved on gets nothing more from this node', async () => {
      const epochs = new Map<string, number>()
      const publisher = createSkaldStatePublisher(fixture.backend, {
        sampleLoad: fixedLoad,
        isCurrent: (taskId, epoch) => epochs.get(taskId) === epoch,
      })
      const skaldId = id('node')
      await publisher.register({ skaldId, mode: 'node', classNames: ['C'] })
      const [kept, moved] = [id('t'), id('t')]
      epochs.set(kept, 5).set(moved, 5)
      await publisher.startRun({ taskId: kept, className: 'C', epoch: 5 })
      await publisher.startRun({ taskId: moved, className: 'C', epoch: 5 })
      await publisher.tick()
      // Another node took `moved` with epoch 6 and wrote its own values.
      epochs.set(moved, 6)
      await fixture.backend.apply([{ op: 'set', key: `task:${moved}:heartbeat`, value: '42', ttlMs: 8000 }])
      publisher.progress(moved, 5, 90)
      publisher.log(moved, 5, ['stale line'])
      const report = await publisher.tick()
      assert.deepEqual(report.fenced, [moved])
      assert.equal(report.tasks, 1)
      assert.equal((await reader().task(moved)).heartbeat, 42)
      assert.equal((await reader().task(moved)).progress, undefined)
      assert.deepEqual((await reader().task(moved)).log, [])
      await publisher.endRun(moved, 5, { status: 'failed', message: 'too late' })
      assert.equal((await reader().task(moved)).heartbeat, 42)
      assert.notEqual((await reader().task(moved)).exception, 'too late')
      assert.deepEqual((await reader().node(skaldId))!.allTasks.tasks.map((t) => t.id), [kept])
      await publisher.close()
    })

    void it('progress, checkpoint and log ride the next tick; the log stays bounded', async () => {
      const publisher = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad, logMaxLines: 5 })
      const taskId = id('t')
      await publisher.startRun({ taskId, className: 'C', epoch: 2 })
      publisher.progress(taskId, 2, 40, 'frames')
      publisher.checkpoint(taskId, 2, { frame: 1200, nested: [1, 'two'] })
      publisher.log(taskId, 2, ['[logger] a', '[stdout] b', '[stderr] c'])
      assert.equal((await reader().task(taskId)).progress, undefined, 'nothing before the tick')
      await publisher.tick()
      let state = await reader().task(taskId)
      assert.equal(state.progress!.value, 40)
      assert.equal(state.progress!.message, 'frames')
      assert.equal(state.progress!.epoch, 2)
      assert.deepEqual(state.checkpoint!.state, { frame: 1200, nested: [1, 'two'] })
      assert.deepEqual(state.log, ['[logger] a', '[stdout] b', '[stderr] c'])
      publisher.log(taskId, 2, ['d', 'e', 'f', 'g'])
      publisher.progress(taskId, 2, 100)
      await publisher.endRun(taskId, 2, { status: 'finished' })
      state = await reader().task(taskId)
      assert.deepEqual(state.log, ['[stderr] c', 'd', 'e', 'f', 'g'])
      assert.equal(state.progress!.value, 100)
      assert.equal(state.heartbeat, 200)
      assert.throws(() => publisher.progress(taskId, 2, 101), { code: 'E_SKALD_STATE_ARGUMENT' })
      await publisher.close()
    })

    void it('a retry under the same epoch keeps the failed run\'s late log lines; a new epoch starts clean', async () => {
      // as on a node: the task stays this node's (its epoch current) between a failed run and its local retry
      const owned = new Map<string, number>()
      const publisher = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad, isCurrent: (t, e) => owned.get(t) === e })
      const taskId = id('retry')
      owned.set(taskId, 7)
      await publisher.startRun({ taskId, className: 'C', epoch: 7 })
      publisher.progress(taskId, 7, 30)
      await publisher.endRun(taskId, 7, { status: 'failed', message: 'exit 3' })
      // the child's last output arrives after its end, then the node retries at once
      publisher.log(taskId, 7, ['[stderr] Error: source unreachable'])
      publisher.progress(taskId, 7, 60)
      await publisher.startRun({ taskId, className: 'C', epoch: 7 })
      publisher.log(taskId, 7, ['[logger] attempt 2'])
      await publisher.tick()
      let state = await reader().task(taskId)
      assert.deepEqual(state.log, ['[stderr] Error: source unreachable', '[logger] attempt 2'])
      assert.equal(state.progress, undefined, 'the failed run\'s progress is not the new run\'s')
      publisher.log(taskId, 7, ['[logger] late'])
      owned.set(taskId, 8)
      await publisher.startRun({ taskId, className: 'C', epoch: 8 })
      await publisher.tick()
      state = await reader().task(taskId)
      assert.ok(!state.log.includes('[logger] late'), 'a new epoch (another assignment) drops what the old one left')
      await publisher.close()
    })

    void it('1,000 tasks: one round trip per tick, each task heartbeated', async () => {
      const backend = counting(fixture.backend)
      const publisher = createSkaldStatePublisher(backend, { sampleLoad: fixedLoad })
      const skaldId = id('node')
      await publisher.register({ skaldId, mode: 'node', classNames: ['Idle'] })
      const tasks = Array.from({ length: 1000 }, () => id('k'))
      // startRun writes each at once (one round trip per start); only the tick is under test here.
      for (const taskId of tasks) await publisher.startRun({ taskId, className: 'Idle', epoch: 1 })
      const firsts = await readTasks(reader(), tasks)
      backend.applies = 0
      const started = performance.now()
      const report = await publisher.tick()
      const ms = performance.now() - started
      assert.equal(backend.applies, 1, 'one round trip')
      assert.equal(report.tasks, 1000)
      assert.deepEqual(report.refused, [])
      const afters = await readTasks(reader(), tasks)
      afters.forEach((state, i) => {
        assert.ok(state.heartbeat >= 0 && state.heartbeat <= 199)
        assert.notEqual(state.heartbeat, firsts[i]!.heartbeat)
      })
      assert.equal((await reader().node(skaldId))!.allTasks.tasks.length, 1000)
      assert.ok(ms < 2000, `tick of 1,000 tasks took ${ms.toFixed(0)} ms`)
      await publisher.close()
    })

    void it('touch keeps a key alive and reports one that is gone', async () => {
      const [kept, gone] = [`x:${id('k')}`, `x:${id('k')}`]
      await fixture.backend.apply([{ op: 'set', key: kept, value: 'v', ttlMs: 5000 }])
      const result = await fixture.backend.apply([
        { op: 'touch', key: gone, ttlMs: 60_000 },
        { op: 'touch', key: kept, ttlMs: 60_000 },
      ])
      assert.deepEqual(result.missingTouches, [0])
      assert.deepEqual(result.refusedBeats, [])
      const stored = (await fixture.backend.getString(kept))!
      assert.equal(stored.value, 'v')
      assert.ok(stored.ttlMs! > 50_000, `ttl ${stored.ttlMs}`)
      assert.equal(await fixture.backend.getString(gone), undefined, 'a touch creates nothing')
    })

    void it('class schemas: written at registration with their timestamp, then only touched by the ticks', async () => {
      const skaldId = id('node')
      const backend = recording(fixture.backend)
      const publisher = createSkaldStatePublisher(backend, { sampleLoad: fixedLoad })
      const before = Date.now()
      await publisher.register({ skaldId, mode: 'node', classNames: ['A', 'B'], classSchemas: { A: schemaA, B: null } })
      const node = (await reader().node(skaldId))!
      const stamp = node.classSchemas?.A?.timestamp ?? 0
      assert.ok(stamp >= before - 1000 && stamp <= Date.now() + 1000, `timestamp ${stamp}`)
      assert.deepEqual(node.classSchemas, { A: { attachments: schemaA, timestamp: stamp }, B: { attachments: null, timestamp: stamp } })
      const stored = (await fixture.backend.getString(`skalds:${skaldId}:ts:classes`))!
      assert.ok(stored.ttlMs! > 3_590_000 && stored.ttlMs! <= 3_600_000, `ttl ${stored.ttlMs}`)
      backend.ops.length = 0
      await publisher.tick()
      await publisher.tick()
      const schemaOps = backend.ops.filter((op) => op.key === `skalds:${skaldId}:ts:classes`)
      assert.deepEqual(schemaOps.map((op) => op.op), ['touch', 'touch'], 'a tick does not rewrite the schemas')
      // The same schemas registered again (a draining Skald does): still only a touch, timestamp kept.
      await publisher.register({ skaldId, mode: 'node', classNames: ['A', 'B'], classSchemas: { A: schemaA, B: null }, draining: true })
      assert.equal(backend.ops.filter((op) => op.key === `skalds:${skaldId}:ts:classes`).at(-1)!.op, 'touch')
      assert.equal((await reader().node(skaldId))!.classSchemas!.A!.timestamp, stamp)
      await publisher.close()
    })

    void it('class schemas come back at the next tick after a delete (Python\'s cleanup of skalds:{id}:*), unchanged', async () => {
      const skaldId = id('node')
      const publisher = createSkaldStatePublisher(fixture.backend, { sampleLoad: fixedLoad })
      await publisher.register({ skaldId, mode: 'node', classNames: ['A'], classSchemas: { A: schemaA } })
      const first = (await reader().node(skaldId))!.classSchemas
      await fixture.backend.apply([{ op: 'del', key: `skalds:${skaldId}:ts:classes` }])
      assert.equal((await reader().node(skaldId))!.classSchemas, undefined)
      await publisher.tick()
      assert.deepEqual((await reader().node(skaldId))!.classSchemas, first)
      await publisher.close()
    })

    void it('class schemas: none registered deletes a key an earlier process left; changed ones are rewritten, newer', async () => {
      const skaldId = id('node')
      const key = `skalds:${skaldId}:ts:classes`
      await fixture.backend.apply([{ op: 'set', key, value: JSON.stringify({ A: { attachments: { type: 'string' }, timestamp: 1 } }), ttlMs: 60_000 }])
      let now = Date.now()
      const backend = recording(fixture.backend)
      const publisher = createSkaldStatePublisher(backend, { sampleLoad: fixedLoad, now: () => now })
      await publisher.register({ skaldId, mode: 'node', classNames: ['A'] })
      assert.equal((await reader().node(skaldId))!.classSchemas, undefined, 'a Skald without schemas publishes none')
      backend.ops.length = 0
      await publisher.tick()
      assert.deepEqual(backend.ops.filter((op) => op.key === key), [], 'deleted once, then left alone')
      await publisher.register({ skaldId, mode: 'node', classNames: ['A'], classSchemas: { A: schemaA } })
      const first = (await reader().node(skaldId))!.classSchemas!.A!
      now += 5000
      const changed = { ...schemaA, required: [] }
      await publisher.register({ skaldId, mode: 'node', classNames: ['A'], classSchemas: { A: changed } })
      const second = (await reader().node(skaldId))!.classSchemas!.A!
      assert.deepEqual(second.attachments, changed)
      assert.equal(second.timestamp, first.timestamp + 5000)
      await publisher.close()
    })

    void it('refuses bad ids and epochs with a stable code', async () => {
      const publisher = createSkaldStatePublisher(fixture.backend)
      await assert.rejects(publisher.register({ skaldId: 'a*b', mode: 'node', classNames: [] }), { code: 'E_SKALD_STATE_ARGUMENT' })
      await assert.rejects(publisher.register({ skaldId: '', mode: 'node', classNames: [] }), { code: 'E_SKALD_STATE_ARGUMENT' })
      await assert.rejects(publisher.startRun({ taskId: 't', className: 'C', epoch: 1.5 }), { code: 'E_SKALD_STATE_ARGUMENT' })
      await assert.rejects(publisher.startRun({ taskId: '', className: 'C', epoch: 1 }), { code: 'E_SKALD_STATE_ARGUMENT' })
      const badSchemas = { A: 'not a schema' } as unknown as Record<string, null>
      await assert.rejects(publisher.register({ skaldId: id('node'), mode: 'node', classNames: ['A'], classSchemas: badSchemas }), { code: 'E_SKALD_STATE_ARGUMENT' })
      await publisher.close()
    })
  })
}
