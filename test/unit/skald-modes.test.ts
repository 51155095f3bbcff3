// A Skald in node mode (registration with its capacity and load, freeze-mode pause and resume of one task) and
// in single_process mode (the YAML file's first task, its outcome as the exit code, updates, cancel and pause
// through the bus, a resume from the checkpoint on the next run). Memory bus, SQLite, the in-process state backend.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { TASK_RESUME_TOPIC } from '../../src/skald/node-events.ts'
import { exitCodeOf } from '../../src/skald/skald.ts'
import { createAndAssign, publish, taskId, TASK_PAUSE_TOPIC, Topic } from '../helpers/skald-node.ts'
import { embeddedEngines, SKALD_FIXTURES, startSkald, yamlFile, type TestSkald } from '../helpers/skald-run.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
const { bus, store, state, reader, started } = engines
after(() => engines.close())
const hostOptions = { graceMs: 1000, poolSize: 1 }

void describe('node-mode Skald', () => {
  void it('needs a bus; registers as node with its classes, capacity and load', async () => {
    await assert.rejects(startSkald({ skaldId: 'n-nobus', store, state }), { code: 'E_SKALD_OPTIONS', message: /node mode needs a bus/ })
    const s = await startSkald({ skaldId: 'n-load', bus, store, state, syncPeriodMs: 50, limits: { maxTasks: 3, perClass: { SlowWorker: 1 } }, hostOptions })
    started.push(s)
    const registered = (await reader.node('n-load'))!
    assert.equal(registered.mode, 'node')
    assert.deepEqual(registered.classNames, Object.keys(SKALD_FIXTURES))
    assert.equal(registered.load?.capacity, 3)
    assert.deepEqual(registered.load?.classes.SlowWorker, { capacity: 1, running: 0 })
    const id = taskId('n-load')
    await createAndAssign(bus, store, 'n-load', { id, className: 'SlowWorker' })
    const load = await waitFor(async () => ((await reader.node('n-load'))?.load?.running === 1 ? (await reader.node('n-load'))!.load : undefined), 'load running 1')
    assert.deepEqual(load.classes.SlowWorker, { capacity: 1, running: 1 })
    assert.ok(load.rssMb > 0)
    await publish(bus, Topic.TaskCancel, id)
    await s.waitEvent((e) => e.type === 'task-ended' && e.taskId === id, 'cancelled')
  })

  void it('freeze: a pause SIGSTOPs the child in place (stored Paused), a resume SIGCONTs it (stored Running)', async () => {
    const s = await startSkald({ skaldId: 'n-freeze', bus, store, state, syncPeriodMs: 50, hostOptions })
    started.push(s)
    const id = taskId('freeze')
    const claimed = await createAndAssign(bus, store, 'n-freeze', { id, className: 'FreezableWorker' })
    const startedEvent = await s.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'started', 'started')
    const pid = startedEvent.type === 'worker' && startedEvent.event.type === 'started' ? startedEvent.event.pid! : 0
    await s.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'progress', 'progress')
    await publish(bus, TASK_PAUSE_TOPIC, id)
    await s.waitEvent((e) => e.type === 'task-frozen' && e.taskId === id, 'frozen')
    const paused = (await store.get(id))!
    assert.equal(paused.lifecycleStatus, 'Paused')
    assert.equal(paused.runtime.epoch, claimed.runtime.epoch)
    assert.ok(paused.runtime.pausedAt !== null)
    assert.equal(procState(pid), 'T', 'the child is stopped')
    const progressed = s.events.filter((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'progress').length
    await sleep(300)
    assert.equal(s.events.filter((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'progress').length, progressed, 'no progress while frozen')
    assert.equal((await reader.task(id)).heartbeatPresent, true, 'the node still heartbeats a frozen task: Paused, not dead')
    await publish(bus, TASK_RESUME_TOPIC, id)
    await s.waitEvent((e) => e.type === 'task-thawed' && e.taskId === id, 'thawed')
    assert.equal((await store.get(id))!.lifecycleStatus, 'Running')
    await waitFor(() => s.events.filter((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'progress').length > progressed + 2, 'progress again')
    await publish(bus, TASK_PAUSE_TOPIC, id)
    await s.waitEvent((e) => e.type === 'task-frozen' && e.taskId === id && s.events.indexOf(e) > s.events.findIndex((x) => x.type === 'task-thawed'), 'frozen again')
    await publish(bus, Topic.TaskCancel, id)
    await s.waitEvent((e) => e.type === 'task-ended' && e.taskId === id, 'ended')
    assert.equal((await store.get(id))!.lifecycleStatus, 'Cancelled', 'a frozen task can be cancelled')
  })
})

void describe('single_process Skald', () => {
  let spSeq = 0
  // One id per Skald: two Skalds of one id share a consumer group, and the bus would balance events between them.
  const sp = async (text: string, extra: { bus?: typeof bus } = { bus }): Promise<TestSkald> => {
    const s = await startSkald({ skaldId: `sp-${process.pid}-${++spSeq}`, mode: 'single_process', store, state, yamlFile: yamlFile(text), hostOptions, retry: { initialMs: 10 }, ...extra })
    started.push(s)
    return s
  }

  void it('runs the first entry only, as a PassiveProcess task, without registering; Finished → exit code 0', async () => {
    const id = taskId('sp-ok')
    const s = await sp(`TaskWorkers:\n  ${id}:\n    className: NormalWorker\n    attachments: { steps: 1 }\n  ${id}-second:\n    className: NormalWorker\n`)
    assert.equal(s.skald.id, `[SP]sp-${process.pid}-${spSeq}`)
    assert.deepEqual(await s.skald.result, { taskId: id, status: 'Finished', exitCode: 0 })
    const task = (await store.get(id))!
    assert.equal(task.mode, 'PassiveProcess')
    assert.equal(task.executor, s.skald.id)
    assert.equal(await store.get(`${id}-second`), null)
    assert.equal(await reader.node(s.skald.id), undefined)
    assert.equal((await reader.task(id)).heartbeat, 200)
  })

  void it('Failed → 1 after its retries; runs without a bus', async () => {
    const id = taskId('sp-fail')
    const s = await sp(`TaskWorkers:\n  ${id}:\n    className: ThrowingWorker\n`, {})
    const result = await s.skald.result
    assert.equal(result?.status, 'Failed')
    assert.equal(result?.exitCode, 1)
    assert.equal((await store.get(id))!.runtime.attempt, 3)
  })

  void it('takes live updates and a cancel (→ 3) through the bus', async () => {
    const id = taskId('sp-upd')
    const s = await sp(`TaskWorkers:\n  ${id}:\n    className: UpdatingWorker\n    attachments: { rtspUrl: rtsp://a, fixFrame: 1 }\n`)
    await s.waitEvent((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'hook' && e.event.hook === 'main', 'main')
    await store.update(id, { attachments: { rtspUrl: 'rtsp://a', fixFrame: 5 } })
    await publish(bus, Topic.TaskUpdateAttachment, id)
    const update = await waitFor(() => s.logged(id).find((l) => l.hook === 'update'), 'update hook')
    assert.equal(update.to, 5)
    await publish(bus, Topic.TaskCancel, id)
    assert.deepEqual(await s.skald.result, { taskId: id, status: 'Cancelled', exitCode: 3 })
  })

  void it('a pause ends the run with its checkpoint (→ 4); the next run resumes from it', async () => {
    const id = taskId('sp-pause')
    const text = `TaskWorkers:\n  ${id}:\n    className: CheckpointingWorker\n    attachments: { until: 200, stepMs: 5 }\n`
    const first = await sp(text)
    await waitFor(() => first.events.filter((e) => e.type === 'worker' && e.taskId === id && e.event.type === 'checkpoint').length >= 5, 'checkpoints')
    await publish(bus, TASK_PAUSE_TOPIC, id)
    assert.equal((await first.skald.result)?.exitCode, 4)
    await first.skald.stop()
    const saved = (await store.get(id))!.runtime.checkpoint as { i: number }
    assert.ok(saved.i >= 5)
    const second = await sp(text)
    assert.equal((await second.skald.result)?.exitCode, 0)
    assert.deepEqual(second.logged(id).find((l) => l.hook === 'before')?.resumedFrom, saved)
  })

  void it('exit codes are documented per status', () => {
    assert.deepEqual(
      (['Finished', 'Failed', 'rejected', 'Cancelled', 'Paused', 'Created', 'superseded', 'not-written'] as const).map(exitCodeOf),
      [0, 1, 1, 3, 4, 5, 5, 70],
    )
  })
})

/** The one-letter state of a process (R, S, T, …) from /proc. */
function procState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!
}
