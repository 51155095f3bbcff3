// An edge Skald: its YAML file's tasks run as Active tasks of its own, the file is followed while it runs (new
// entries start, removed ones stop, changed attachments reach the worker as an update) and never rewritten; a
// cancel reaches an edge task (Python's edge does not subscribe to it); a broken file refuses the start, a broken
// edit changes nothing. Memory bus, SQLite, the in-process state backend, inline and process hosts.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { TaskWorkersFileError } from '../../src/config/taskworkers-yaml.ts'
import { publish, Topic } from '../helpers/skald-node.ts'
import { embeddedEngines, startSkald, yamlFile, type TestSkald } from '../helpers/skald-run.ts'
import { waitFor } from '../helpers/wait.ts'

const engines = embeddedEngines()
const { bus, store, state, reader, started } = engines
after(() => engines.close())

let n = 0
async function edge(text: (p: string) => string, options: { watchYaml?: boolean } = {}): Promise<{ e: TestSkald; file: string; p: string; id: string }> {
  const p = `e${++n}-${process.pid}`
  const file = yamlFile(text(p))
  const id = `edge-${p}`
  const e = await startSkald({ skaldId: id, mode: 'edge', bus, store, state, yamlFile: file, hostOptions: { graceMs: 1000, poolSize: 0 }, syncPeriodMs: 50, ...options })
  started.push(e)
  return { e, file, p, id }
}

const twoTasks = (p: string): string => `# the edge's tasks: this comment must survive
TaskWorkers:
  ${p}-cam-1:
    className: UpdatingWorker
    attachments: { rtspUrl: rtsp://a, fixFrame: 1 }
  ${p}-cam-2:
    className: SlowWorker
`

void describe('edge Skald', () => {
  void it('runs every entry as an Active task of its own and registers as edge with its classes', async () => {
    const { e, p, id } = await edge(twoTasks)
    for (const t of ['cam-1', 'cam-2']) await e.waitEvent((ev) => ev.type === 'worker' && ev.taskId === `${p}-${t}` && ev.event.type === 'hook' && ev.event.hook === 'main', `${t} main`)
    const task = (await store.get(`${p}-cam-1`))!
    assert.equal(task.mode, 'Active')
    assert.equal(task.source, 'YAML')
    assert.equal(task.executor, id)
    assert.equal(task.lifecycleStatus, 'Running')
    assert.equal(task.deadlineDateTime, 0)
    assert.deepEqual(task.attachments, { rtspUrl: 'rtsp://a', fixFrame: 1 })
    const node = await waitFor(async () => ((await reader.node(id))?.allTasks.tasks.length === 2 ? reader.node(id) : undefined), 'registration with 2 tasks')
    assert.equal(node.mode, 'edge')
    assert.ok(node.classNames.includes('UpdatingWorker'))
    assert.equal((await reader.task(`${p}-cam-2`)).heartbeatPresent, true)
  })

  void it('follows the file: added entries start, removed ones stop, changed attachments become a live update; the file is never rewritten', async () => {
    const { e, file, p } = await edge(twoTasks)
    await e.waitEvent((ev) => ev.type === 'worker' && ev.taskId === `${p}-cam-1` && ev.event.type === 'hook' && ev.event.hook === 'main', 'cam-1 main')
    const edited = `# the edge's tasks: this comment must survive
TaskWorkers:
  ${p}-cam-1:
    className: UpdatingWorker
    attachments: { rtspUrl: rtsp://b, fixFrame: 2 }
  ${p}-job-3:
    className: NormalWorker
    attachments: { steps: 1 }
`
    writeFileSync(file, edited)
    const reload = await waitFor(() => e.reloads[0], 'a reload', 10_000)
    assert.ok(!(reload instanceof Error), reload instanceof Error ? reload.message : '')
    assert.deepEqual(reload.started, [`${p}-job-3`])
    assert.deepEqual(reload.stopped, [`${p}-cam-2`])
    assert.deepEqual(reload.updated, [`${p}-cam-1`])
    const update = await waitFor(() => e.logged(`${p}-cam-1`).find((l) => l.hook === 'update'), 'the update hook')
    assert.equal(update.from, 1)
    assert.equal(update.to, 2)
    assert.equal((await store.get(`${p}-cam-2`))!.lifecycleStatus, 'Cancelled')
    assert.deepEqual((await store.get(`${p}-cam-1`))!.attachments, { rtspUrl: 'rtsp://b', fixFrame: 2 })
    await waitFor(async () => (await store.get(`${p}-job-3`))?.lifecycleStatus === 'Finished', 'job-3 Finished')
    assert.equal(readFileSync(file, 'utf8'), edited)
  })

  void it('a broken edit changes nothing and says where; a cancel reaches an edge task', async () => {
    const { e, file, p } = await edge(twoTasks)
    await e.waitEvent((ev) => ev.type === 'worker' && ev.taskId === `${p}-cam-1` && ev.event.type === 'hook' && ev.event.hook === 'main', 'cam-1 main')
    writeFileSync(file, `TaskWorkers:\n  ${p}-cam-1:\n    className: UpdatingWorker\n    attachments: [1, 2]\n`)
    const reload = await waitFor(() => e.reloads[0], 'a reload', 10_000)
    assert.ok(reload instanceof TaskWorkersFileError)
    assert.match(reload.message, new RegExp(`^${file.replaceAll('.', '\\.')}:4: TaskWorkers\\.${p}-cam-1\\.attachments: `))
    assert.equal(e.skald.manager.running.length, 2)
    await publish(bus, Topic.TaskCancel, `${p}-cam-2`)
    await e.waitEvent((ev) => ev.type === 'task-ended' && ev.taskId === `${p}-cam-2`, 'cam-2 ended')
    assert.equal((await store.get(`${p}-cam-2`))!.lifecycleStatus, 'Cancelled')
    assert.equal((await store.get(`${p}-cam-1`))!.lifecycleStatus, 'Running')
  })

  void it('a broken file or an unknown class refuses the start with file, line and field, before anything is written', async () => {
    const p = `bad-${process.pid}`
    const cases = [
      [`TaskWorkers:\n  ${p}-a:\n    className: NormalWorker\n    isPersistent: maybe\n`, `:4: TaskWorkers.${p}-a.isPersistent: `],
      [`TaskWorkers:\n  ${p}-a:\n    className: NormalWorker\n  ${p}-b:\n    className: NoSuchWorker\n`, `:4: TaskWorkers.${p}-b.className: class "NoSuchWorker" is not registered`],
    ] as const
    for (const [text, expected] of cases) {
      const file = yamlFile(text)
      await assert.rejects(
        startSkald({ skaldId: 'edge-bad', mode: 'edge', bus, store, state, yamlFile: file }),
        (error: unknown) => error instanceof TaskWorkersFileError && error.message.startsWith(`${file}${expected}`),
      )
      assert.equal(await store.get(`${p}-a`), null)
    }
    assert.equal(await reader.node('edge-bad'), undefined)
  })

  void it('at a restart, the stored attachments (changed through the API) win over the file', async () => {
    const { e, p, file, id } = await edge(twoTasks, { watchYaml: false })
    await e.waitEvent((ev) => ev.type === 'task-started' && ev.taskId === `${p}-cam-1`, 'cam-1 started')
    await e.skald.stop(2000)
    const stopped = (await store.get(`${p}-cam-1`))!
    assert.equal(stopped.lifecycleStatus, 'Created', 'a persistent YAML task is handed back at shutdown, never Cancelled')
    await store.update(`${p}-cam-1`, { attachments: { rtspUrl: 'rtsp://api', fixFrame: 7 } })
    const again = await startSkald({ skaldId: id, mode: 'edge', bus, store, state, yamlFile: file, watchYaml: false, hostOptions: { graceMs: 1000 } })
    started.push(again)
    await again.waitEvent((ev) => ev.type === 'task-started' && ev.taskId === `${p}-cam-1`, 'cam-1 started again')
    const task = (await store.get(`${p}-cam-1`))!
    assert.deepEqual(task.attachments, { rtspUrl: 'rtsp://api', fixFrame: 7 })
    assert.equal(task.runtime.epoch, stopped.runtime.epoch + 1)
  })
})
