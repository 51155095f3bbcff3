// The TaskStore contract: one suite, run against every implementation (store-sqlite.test.ts, store-mongo.test.ts).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { LIFECYCLE_STATUSES, TaskValidationError, type Task, type TaskInput, type TaskLifecycleStatus } from '../../src/model/index.ts'
import {
  MAX_LIST_LIMIT,
  TaskConflictError,
  TaskExistsError,
  TaskNotFoundError,
  TaskQueryError,
  TIMELINE_MAX_ENTRIES,
  type StatusCounts,
  type TaskListQuery,
  type TaskStore,
  type TimelineEntry,
} from '../../src/store/index.ts'

/** Epoch ms used by the shapes' time filters. */
export const SHAPE_T0 = 1_700_000_000_000

/**
 * The list shapes the REST API, the dispatcher, the monitor and the change feed issue, and the index each engine
 * must serve the filter and the order from, in one read (`sqlite.ranges`: one index range per status/class
 * combination; `sqlite.detail`: what the plan line must say the range is on). The query-plan tests of both
 * engines run these.
 */
export const LIST_SHAPES: {
  label: string
  query: TaskListQuery
  sqlite: { index: string; ranges?: number; detail?: RegExp }
  mongodb: string
}[] = [
  { label: 'unfiltered, newest first (the REST default)', query: {}, sqlite: { index: 'tasks_created' }, mongodb: 'createDateTime_-1_id_-1' },
  {
    label: 'unfiltered, oldest first',
    query: { sort: { field: 'createDateTime', direction: 'asc' } },
    sqlite: { index: 'tasks_created' },
    mongodb: 'createDateTime_-1_id_-1',
  },
  { label: 'createdFrom', query: { createdFrom: SHAPE_T0 }, sqlite: { index: 'tasks_created', detail: /create_date_time>\?/ }, mongodb: 'createDateTime_-1_id_-1' },
  {
    label: 'one status',
    query: { lifecycleStatus: 'Failed' },
    sqlite: { index: 'tasks_status_created', detail: /lifecycle_status=\?/ },
    mongodb: 'lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  {
    label: 'one status, oldest first',
    query: { lifecycleStatus: 'Failed', sort: { field: 'createDateTime', direction: 'asc' } },
    sqlite: { index: 'tasks_status_created' },
    mongodb: 'lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  {
    label: 'Created (on MongoDB also the documents without a status)',
    query: { lifecycleStatus: 'Created' },
    sqlite: { index: 'tasks_status_created' },
    mongodb: 'lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  {
    label: 'several statuses',
    query: { lifecycleStatus: ['Running', 'Failed', 'Paused'] },
    sqlite: { index: 'tasks_status_created', ranges: 3 },
    mongodb: 'lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  {
    label: 'the monitor: Assigning + Running',
    query: { lifecycleStatus: ['Assigning', 'Running'], limit: 10_000 },
    sqlite: { index: 'tasks_status_created', ranges: 2 },
    mongodb: 'lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  { label: 'one class', query: { className: 'A' }, sqlite: { index: 'tasks_class_created', detail: /class_name=\?/ }, mongodb: 'className_1_createDateTime_-1_id_-1' },
  { label: 'several classes', query: { className: ['A', 'B'] }, sqlite: { index: 'tasks_class_created', ranges: 2 }, mongodb: 'className_1_createDateTime_-1_id_-1' },
  {
    label: 'status + class',
    query: { lifecycleStatus: 'Failed', className: 'A' },
    sqlite: { index: 'tasks_class_status_created', detail: /class_name=\? AND lifecycle_status=\?/ },
    mongodb: 'className_1_lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  {
    label: 'statuses × classes',
    query: { lifecycleStatus: ['Running', 'Failed'], className: ['A', 'B'] },
    sqlite: { index: 'tasks_class_status_created', ranges: 4 },
    mongodb: 'className_1_lifecycleStatus_1_createDateTime_-1_id_-1',
  },
  { label: 'executor', query: { executor: 'node-1' }, sqlite: { index: 'tasks_executor_created', detail: /executor=\?/ }, mongodb: 'executor_1_createDateTime_-1_id_-1' },
  { label: 'unassigned', query: { executor: null }, sqlite: { index: 'tasks_executor_created' }, mongodb: 'executor_1_createDateTime_-1_id_-1' },
  { label: 'mode', query: { mode: 'Active' }, sqlite: { index: 'tasks_mode_created', detail: /mode=\?/ }, mongodb: 'mode_1_createDateTime_-1_id_-1' },
  {
    label: 'the change feed: updatedFrom, oldest change first',
    query: { updatedFrom: SHAPE_T0, sort: { field: 'updateDateTime', direction: 'asc' }, limit: 1000 },
    sqlite: { index: 'tasks_updated', detail: /update_date_time>\?/ },
    mongodb: 'updateDateTime_1_id_1',
  },
  {
    label: 'the dispatcher: Created + Passive, priority desc, then oldest',
    query: { lifecycleStatus: 'Created', mode: 'Passive', sort: [{ field: 'priority', direction: 'desc' }, { field: 'createDateTime' }] },
    sqlite: { index: 'tasks_dispatch', detail: /lifecycle_status=\? AND mode=\?/ },
    mongodb: 'lifecycleStatus_1_mode_1_priority_-1_createDateTime_1_id_1',
  },
]

/** How a contract run reaches one implementation. */
export interface StoreHarness {
  /** a new, independent connection to the same data (each call = one more "controller") */
  open(): Promise<TaskStore>
  /** removes what the run created; called once at the end */
  cleanup(): Promise<void>
}

/** A class name unique to one test, so tests sharing a database never see each other's tasks in lists. */
function uniqueClass(label: string): string {
  return `${label}${randomUUID().slice(0, 8)}`
}

function task(id: string, className: string, extra: Partial<TaskInput> = {}): TaskInput {
  return { id, className, source: 'ContractTest', ...extra }
}

/** Every stored task, read page by page in id order: the full scan the counts are checked against. */
async function scanAll(store: TaskStore): Promise<Task[]> {
  const all: Task[] = []
  for (let offset = 0; ; offset += MAX_LIST_LIMIT) {
    const page = await store.list({ sort: { field: 'id' }, limit: MAX_LIST_LIMIT, offset })
    all.push(...page.items)
    if (page.items.length < MAX_LIST_LIMIT) return all
  }
}

function tally(tasks: readonly Task[]): StatusCounts {
  const counts = Object.fromEntries(LIFECYCLE_STATUSES.map((s) => [s, 0])) as StatusCounts
  for (const t of tasks) counts[t.lifecycleStatus]++
  return counts
}

export function taskStoreContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  void describe(`TaskStore contract: ${name}`, () => {
    let harness: StoreHarness
    let store: TaskStore
    let other: TaskStore
    const opened: TaskStore[] = []

    before(async () => {
      harness = await makeHarness()
      store = await harness.open()
      other = await harness.open()
      opened.push(store, other)
    })
    after(async () => {
      for (const s of opened) await s.close()
      await harness.cleanup()
    })

    void it('creates with the Python defaults and reads back the same task', async () => {
      const cls = uniqueClass('Create')
      const before = Date.now()
      const created = await store.create(task(`${cls}-1`, cls, { attachments: { rtspUrl: 'rtsp://x', fixFrame: 10 }, dependencies: ['a'] }))
      assert.equal(created.mode, 'Passive')
      assert.equal(created.lifecycleStatus, 'Created')
      assert.equal(created.priority, 0)
      assert.equal(created.isPersistent, true)
      assert.ok(created.createDateTime >= before)
      assert.equal(created.deadlineDateTime, created.createDateTime + 7 * 24 * 3600 * 1000)
      assert.deepEqual(await store.get(created.id), created)
      assert.deepEqual(await other.get(created.id), created, 'visible to another connection')
      assert.equal(await store.get(`${cls}-missing`), null)
    })

    void it('rejects a duplicate id and invalid input without writing', async () => {
      const cls = uniqueClass('Dup')
      await store.create(task(`${cls}-1`, cls))
      await assert.rejects(other.create(task(`${cls}-1`, cls, { priority: 5 })), (e: unknown) => e instanceof TaskExistsError && e.code === 'E_TASK_EXISTS')
      assert.equal((await store.get(`${cls}-1`))?.priority, 0)
      await assert.rejects(store.create(task(`${cls}-2`, cls, { priority: 11 })), (e: unknown) => e instanceof TaskValidationError && e.field === 'priority')
      assert.equal(await store.get(`${cls}-2`), null)
    })

    void it('getMany returns the existing tasks in the order asked, each once', async () => {
      const cls = uniqueClass('Many')
      for (const n of [1, 2, 3]) await store.create(task(`${cls}-${n}`, cls))
      const got = await store.getMany([`${cls}-3`, `${cls}-missing`, `${cls}-1`, `${cls}-3`])
      assert.deepEqual(got.map((t) => t.id), [`${cls}-3`, `${cls}-1`])
      assert.deepEqual(await store.getMany([]), [])
    })

    void it('update applies the patch, keeps other fields and always moves updateDateTime forward', async () => {
      const cls = uniqueClass('Update')
      const t0 = await store.create(task(`${cls}-1`, cls, { name: 'n', updateDateTime: Date.now() + 60_000 }))
      const t1 = await store.update(t0.id, { lifecycleStatus: 'Assigning', executor: 'node-1' })
      assert.equal(t1.lifecycleStatus, 'Assigning')
      assert.equal(t1.executor, 'node-1')
      assert.equal(t1.name, 'n')
      assert.ok(t1.updateDateTime > t0.updateDateTime, 'token moves even when the stored value is in the future')
      assert.deepEqual(await other.get(t0.id), t1)
      const t2 = await store.update(t0.id, { attachments: { a: 1 }, deadlineDateTime: 123 })
      assert.ok(t2.updateDateTime > t1.updateDateTime)
      assert.deepEqual(t2.attachments, { a: 1 })
      assert.equal(t2.deadlineDateTime, 123)
      assert.equal((await store.update(t0.id, { attachments: {} })).attachments, null, 'empty attachments are stored as null')
      await assert.rejects(store.update(`${cls}-missing`, { priority: 1 }), TaskNotFoundError)
      await assert.rejects(store.update(t0.id, { priority: 99 }), (e: unknown) => e instanceof TaskValidationError && e.field === 'priority')
      await assert.rejects(store.update(t0.id, { id: 'other' } as never), (e: unknown) => e instanceof TaskValidationError && e.field === 'id')
    })

    void it('update given the caller’s copy (current) decides on what is stored, stale copy or not', async () => {
      const cls = uniqueClass('Current')
      const t0 = await store.create(task(`${cls}-1`, cls, { executor: 'node-1', lifecycleStatus: 'Assigning' }))
      // fresh copy: applied on top of it
      const t1 = await store.update(t0.id, { lifecycleStatus: 'Running', runtime: { attempt: 1 } }, { expect: { executor: 'node-1' }, current: t0 })
      assert.equal(t1.lifecycleStatus, 'Running')
      // another writer changed it since: the patch lands on the stored state, not on the stale copy
      const t2 = await other.update(t0.id, { priority: 5, runtime: { checkpoint: { step: 2 } } })
      const t3 = await store.update(t0.id, { runtime: { attempt: 2 } }, { expect: { executor: 'node-1' }, current: t1 })
      assert.equal(t3.priority, 5)
      assert.deepEqual(t3.runtime.checkpoint, { step: 2 })
      assert.equal(t3.runtime.attempt, 2)
      assert.ok(t3.updateDateTime > t2.updateDateTime)
      // a stale copy that fails the conditions does not refuse a write the stored state allows …
      const stale = { ...t3, executor: 'node-9' }
      assert.equal((await store.update(t0.id, { priority: 6 }, { expect: { executor: 'node-1' }, current: stale })).priority, 6)
      // … and one that meets them does not let through a write the stored state refuses
      await other.update(t0.id, { lifecycleStatus: 'Cancelled' })
      await assert.rejects(store.update(t0.id, { lifecycleStatus: 'Finished' }, { expect: { lifecycleStatus: 'Running' }, current: t3 }), TaskConflictError)
      assert.equal((await other.get(t0.id))?.lifecycleStatus, 'Cancelled')
    })

    void it('compare-and-set: two controllers racing on one task, exactly one wins', async () => {
      const cls = uniqueClass('Race')
      const t0 = await store.create(task(`${cls}-1`, cls))
      const [seenA, seenB] = await Promise.all([store.get(t0.id), other.get(t0.id)])
      const results = await Promise.allSettled([
        store.update(t0.id, { executor: 'node-A', lifecycleStatus: 'Assigning' }, { expectedUpdateDateTime: seenA!.updateDateTime }),
        other.update(t0.id, { executor: 'node-B', lifecycleStatus: 'Assigning' }, { expectedUpdateDateTime: seenB!.updateDateTime }),
      ])
      const won = results.filter((r) => r.status === 'fulfilled')
      const lost = results.filter((r) => r.status === 'rejected')
      assert.equal(won.length, 1, 'one winner')
      assert.equal(lost.length, 1, 'one loser')
      const winner = won[0]!.value
      const error = lost[0]!.reason as TaskConflictError
      assert.ok(error instanceof TaskConflictError, String(error))
      assert.equal(error.code, 'E_TASK_CONFLICT')
      assert.deepEqual(error.current, winner, 'the loser learns the current state')
      assert.deepEqual(await store.get(t0.id), winner)
    })

    void it('compare-and-set: a stale token is refused even without a race', async () => {
      const cls = uniqueClass('Stale')
      const t0 = await store.create(task(`${cls}-1`, cls))
      await other.update(t0.id, { priority: 3 })
      await assert.rejects(store.update(t0.id, { priority: 7 }, { expectedUpdateDateTime: t0.updateDateTime }), TaskConflictError)
      assert.equal((await store.get(t0.id))?.priority, 3)
    })

    void it('read-modify-write loops on two connections lose no update', async () => {
      const cls = uniqueClass('Counter')
      const id = `${cls}-1`
      await store.create(task(id, cls, { attachments: { n: 0 } }))
      const perWriter = 15
      const writer = async (s: TaskStore): Promise<number> => {
        let conflicts = 0
        for (let done = 0; done < perWriter; ) {
          const cur = (await s.get(id))!
          try {
            await s.update(id, { attachments: { n: (cur.attachments!.n as number) + 1 } }, { expectedUpdateDateTime: cur.updateDateTime })
            done++
          } catch (error) {
            if (!(error instanceof TaskConflictError)) throw error
            conflicts++
          }
        }
        return conflicts
      }
      await Promise.all([writer(store), writer(other), writer(store), writer(other)])
      assert.equal((await store.get(id))!.attachments!.n, 4 * perWriter)
    })

    void it('field conditions: only one dispatcher assigns a Created, unassigned task', async () => {
      const cls = uniqueClass('Assign')
      const t0 = await store.create(task(`${cls}-1`, cls))
      const expect = { lifecycleStatus: 'Created', executor: null } as const
      const results = await Promise.allSettled([
        store.update(t0.id, { executor: 'node-A', lifecycleStatus: 'Assigning' }, { expect }),
        other.update(t0.id, { executor: 'node-B', lifecycleStatus: 'Assigning' }, { expect }),
      ])
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      assert.ok(lost.reason instanceof TaskConflictError)
      await assert.rejects(
        store.update(t0.id, { executor: 'node-C' }, { expect: { lifecycleStatus: ['Created', 'Failed'] } }),
        /lifecycleStatus is Assigning, expected Created or Failed/,
      )
    })

    void it('blind patches of different fields racing both survive', async () => {
      const cls = uniqueClass('Blind')
      const t0 = await store.create(task(`${cls}-1`, cls))
      await Promise.all([
        store.update(t0.id, { name: 'renamed' }),
        other.update(t0.id, { priority: 9 }),
        store.update(t0.id, { description: 'd' }),
        other.update(t0.id, { executor: 'node-1' }),
      ])
      const t = (await store.get(t0.id))!
      assert.deepEqual([t.name, t.priority, t.description, t.executor], ['renamed', 9, 'd', 'node-1'])
    })

    void describe('queries', () => {
      const cls = uniqueClass('Query')
      const clsB = `${cls}B`
      const base = 1_700_000_000_000
      const tasks: TaskInput[] = [
        task(`${cls}-01`, cls, { name: 'camera.*[( one', createDateTime: base + 1, priority: 5, lifecycleStatus: 'Running', executor: 'node-1' }),
        task(`${cls}-02`, cls, { name: 'Camera two', createDateTime: base + 2, priority: 1, lifecycleStatus: 'Created' }),
        task(`${cls}-03`, cls, { name: '100%_done\\', createDateTime: base + 3, priority: 5, lifecycleStatus: 'Failed', executor: 'node-2' }),
        task(`${cls}-04`, clsB, { name: null, createDateTime: base + 3, priority: 10, lifecycleStatus: 'Created', mode: 'Active' }),
        task(`${cls}-05`, clsB, { name: 'xyz', createDateTime: base + 5, priority: 0, lifecycleStatus: 'Finished', executor: 'node-1' }),
        task(`${cls}-06`, cls, { name: 'camera six', createDateTime: base + 6, priority: 5, lifecycleStatus: 'Created', mode: 'PassiveProcess' }),
      ]
      const both = { className: [cls, clsB] }
      const ids = (page: { items: Task[] }): string[] => page.items.map((t) => t.id.slice(cls.length + 1))

      before(async () => {
        for (const t of tasks) await store.create(t)
      })

      void it("default sort is createDateTime desc, ties broken by id in the last key's direction", async () => {
        assert.deepEqual(ids(await store.list(both)), ['06', '05', '04', '03', '02', '01'])
        const asc = await store.list({ ...both, sort: { field: 'createDateTime', direction: 'asc' } })
        assert.deepEqual(ids(asc), ['01', '02', '03', '04', '05', '06'], 'the exact reverse')
        const byPriority = await store.list({ ...both, sort: [{ field: 'priority', direction: 'desc' }] })
        assert.deepEqual(ids(byPriority), ['04', '06', '03', '01', '02', '05'], 'priority 5 ties: id desc')
      })

      void it('several statuses and classes: one ordered page across them, paged, each task once', async () => {
        const filter = { ...both, lifecycleStatus: ['Created', 'Failed', 'Created'] } as const
        const page = await store.list({ ...filter, limit: 2, offset: 1 })
        assert.deepEqual(ids(page), ['04', '03'])
        assert.equal(page.total, 4)
        assert.deepEqual(ids(await store.list({ ...filter, sort: { field: 'createDateTime', direction: 'asc' } })), ['02', '03', '04', '06'])
        assert.deepEqual(ids(await store.list({ ...filter, mode: ['Passive', 'Active'], sort: { field: 'id' } })), ['02', '03', '04'])
        assert.equal(await store.count(filter), 4)
        assert.equal((await store.countByStatus(filter)).Created, 3)
      })

      void it('paging: offset and limit over a stable order, total ignores paging', async () => {
        const sort = { field: 'createDateTime', direction: 'asc' } as const
        const p1 = await store.list({ ...both, sort, limit: 4 })
        const p2 = await store.list({ ...both, sort, limit: 4, offset: 4 })
        assert.deepEqual(ids(p1), ['01', '02', '03', '04'])
        assert.deepEqual(ids(p2), ['05', '06'])
        assert.equal(p1.total, 6)
        assert.equal(p2.total, 6)
        assert.deepEqual([p2.offset, p2.limit], [4, 4])
        assert.deepEqual(ids(await store.list({ ...both, offset: 10 })), [])
      })

      void it('sort on several keys: priority desc, then createDateTime asc (the dispatcher order)', async () => {
        const page = await store.list({ ...both, sort: [{ field: 'priority', direction: 'desc' }, { field: 'createDateTime' }] })
        assert.deepEqual(ids(page), ['04', '01', '03', '06', '02', '05'])
      })

      void it('filters: status, className, executor (null = unassigned), mode, time ranges', async () => {
        assert.deepEqual(ids(await store.list({ ...both, lifecycleStatus: 'Created', sort: { field: 'id' } })), ['02', '04', '06'])
        assert.deepEqual(ids(await store.list({ ...both, lifecycleStatus: ['Running', 'Failed'], sort: { field: 'id' } })), ['01', '03'])
        assert.deepEqual(ids(await store.list({ className: clsB, sort: { field: 'id' } })), ['04', '05'])
        assert.deepEqual(ids(await store.list({ ...both, executor: 'node-1', sort: { field: 'id' } })), ['01', '05'])
        assert.deepEqual(ids(await store.list({ ...both, executor: null, sort: { field: 'id' } })), ['02', '04', '06'])
        assert.deepEqual(ids(await store.list({ ...both, mode: 'Passive', lifecycleStatus: 'Created' })), ['02'])
        assert.deepEqual(ids(await store.list({ ...both, mode: ['Active', 'PassiveProcess'], sort: { field: 'id' } })), ['04', '06'])
        assert.deepEqual(ids(await store.list({ ...both, createdFrom: base + 5, sort: { field: 'id' } })), ['05', '06'])
        assert.equal((await store.list({ ...both, updatedFrom: Date.now() + 3_600_000 })).total, 0)
        assert.deepEqual(ids(await store.list({ ...both, lifecycleStatus: [] })), [])
      })

      void it('text: case-insensitive substring of id or name, metacharacters taken literally', async () => {
        const sort = { field: 'id' } as const
        assert.deepEqual(ids(await store.list({ ...both, text: 'CAMERA', sort })), ['01', '02', '06'])
        assert.deepEqual(ids(await store.list({ ...both, text: '.*[(', sort })), ['01'])
        assert.deepEqual(ids(await store.list({ ...both, text: '.*', sort })), ['01'])
        assert.deepEqual(ids(await store.list({ ...both, text: '(', sort })), ['01'])
        assert.deepEqual(ids(await store.list({ ...both, text: '%_', sort })), ['03'])
        assert.deepEqual(ids(await store.list({ ...both, text: '\\', sort })), ['03'])
        assert.deepEqual(ids(await store.list({ ...both, text: '_', sort })), ['03'])
        assert.deepEqual(ids(await store.list({ ...both, text: '^c', sort })), [])
        assert.deepEqual(ids(await store.list({ ...both, text: `${cls}-0`, sort })).length, 6, 'matches ids too')
        assert.deepEqual(ids(await store.list({ ...both, text: '-04', sort })), ['04'])
      })

      void it('count, countByStatus and distinctClassNames', async () => {
        assert.equal(await store.count(both), 6)
        assert.equal(await store.count({ ...both, lifecycleStatus: 'Created' }), 3)
        assert.deepEqual(await store.countByStatus(both), {
          Created: 3,
          Assigning: 0,
          Running: 1,
          Paused: 0,
          Finished: 1,
          Failed: 1,
          Cancelled: 0,
        })
        assert.equal((await store.countByStatus({ className: clsB })).Created, 1)
        const names = await store.distinctClassNames()
        assert.ok(names.includes(cls) && names.includes(clsB))
        assert.deepEqual(names, [...names].sort())
      })

      void it("listItems: list's page without the total, for every filter, sort and page", async () => {
        const dispatcherOrder = [{ field: 'priority', direction: 'desc' }, { field: 'createDateTime' }] as const
        const queries: TaskListQuery[] = [
          both,
          { ...both, lifecycleStatus: 'Created', mode: 'Passive', sort: dispatcherOrder },
          { ...both, lifecycleStatus: ['Created', 'Failed'], sort: { field: 'createDateTime', direction: 'asc' }, offset: 1, limit: 2 },
          { ...both, executor: null, text: 'camera' },
          { ...both, offset: 10 },
        ]
        for (const query of queries) assert.deepEqual(await store.listItems(query), (await store.list(query)).items, JSON.stringify(query))
        assert.deepEqual(
          (await other.listItems({ ...both, lifecycleStatus: 'Created', sort: dispatcherOrder })).map((t) => t.id.slice(cls.length + 1)),
          ['04', '06', '02'],
          'another handle on the same data reads the same page',
        )
        await assert.rejects(store.listItems({ limit: 0 }), (e: unknown) => e instanceof TaskQueryError && /limit/.test(e.message))
        await assert.rejects(store.listItems({ sort: { field: 'nope' as never } }), /sort\.field/)
      })

      void it('changedSince: the stamps of the change feed page, oldest change first, without whole tasks', async () => {
        const cls = uniqueClass('Stamps')
        const from = Date.now()
        for (let i = 0; i < 4; i++) await store.create(task(`${cls}-${i}`, cls))
        const updated = await other.update(`${cls}-1`, { priority: 3 })
        const mine = (stamps: { id: string; updateDateTime: number }[]): typeof stamps => stamps.filter((s) => s.id.startsWith(cls))
        const page = await store.list({ updatedFrom: from, sort: { field: 'updateDateTime', direction: 'asc' }, limit: 1000 })
        const stamps = await store.changedSince(from, { limit: 1000 })
        assert.deepEqual(stamps, page.items.map((t) => ({ id: t.id, updateDateTime: t.updateDateTime })), 'the same order and tokens as the list')
        const last = mine(stamps).find((s) => s.id === `${cls}-1`)
        assert.equal(last?.updateDateTime, updated.updateDateTime, 'the stamp is the token of the last write')
        assert.ok(mine(stamps).every((s) => s.updateDateTime <= updated.updateDateTime), 'the task changed last is stamped last')
        assert.deepEqual(await store.changedSince(from, { offset: 1, limit: 2 }), stamps.slice(1, 3))
        assert.deepEqual(await other.changedSince(Date.now() + 3_600_000), [])
        await assert.rejects(store.changedSince(1.5), (e: unknown) => e instanceof TaskQueryError && /updatedFrom/.test(e.message))
        await assert.rejects(store.changedSince(from, { limit: 0 }), /limit/)
        await assert.rejects(store.changedSince(from, { offset: -1 }), /offset/)
      })

      void it('invalid queries name the option', async () => {
        await assert.rejects(store.list({ limit: 0 }), (e: unknown) => e instanceof TaskQueryError && /limit/.test(e.message))
        await assert.rejects(store.list({ offset: -1 }), /offset/)
        await assert.rejects(store.list({ sort: { field: 'bogus' as never } }), /sort\.field/)
        await assert.rejects(store.list({ lifecycleStatus: 'running' as never }), /lifecycleStatus: unknown status "running"/)
        await assert.rejects(store.count({ createdFrom: 1.5 }), /createdFrom/)
      })
    })

    void it('counts equal a full scan after random creates, status changes, other updates and deletes on two connections', async () => {
      const cls = uniqueClass('Counts')
      const live: string[] = []
      let created = 0
      const step = fc.record({
        op: fc.constantFrom('create', 'status', 'touch', 'delete'),
        pick: fc.nat(),
        status: fc.constantFrom(...LIFECYCLE_STATUSES),
        viaOther: fc.boolean(),
      })
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), fc.constantFrom(...LIFECYCLE_STATUSES), fc.constantFrom(...LIFECYCLE_STATUSES), async (steps, a, b) => {
          for (const s of steps) {
            const writer = s.viaOther ? other : store
            if (s.op === 'create' || live.length === 0) {
              const id = `${cls}-${created++}`
              await writer.create(task(id, cls, { lifecycleStatus: s.status }))
              live.push(id)
              continue
            }
            const index = s.pick % live.length
            const id = live[index]!
            // `status` may set the status it already has; `touch` changes another field only.
            if (s.op === 'status') await writer.update(id, { lifecycleStatus: s.status })
            else if (s.op === 'touch') await writer.update(id, { priority: s.pick % 11 })
            else {
              assert.equal(await writer.delete(id), true)
              live.splice(index, 1)
            }
          }
          const all = await scanAll(store)
          const expected = tally(all)
          const mine = tally(all.filter((t) => t.className === cls))
          const pair: TaskLifecycleStatus[] = [a, b]
          const pairCount = a === b ? expected[a] : expected[a] + expected[b]
          assert.deepEqual(await store.countByStatus(), expected)
          assert.equal(await other.count(), all.length)
          assert.equal((await store.list({ limit: 1 })).total, all.length)
          assert.equal(await store.count({ lifecycleStatus: a }), expected[a])
          assert.equal((await other.list({ lifecycleStatus: b, limit: 1 })).total, expected[b])
          assert.equal(await store.count({ lifecycleStatus: pair }), pairCount)
          assert.deepEqual(await other.countByStatus({ lifecycleStatus: pair }), { ...tally([]), [a]: expected[a], [b]: expected[b] })
          assert.deepEqual(await store.countByStatus({ className: cls }), mine)
          assert.equal(await store.count({ className: cls, lifecycleStatus: a }), mine[a])
        }),
        { numRuns: 10 },
      )
    })

    void it('delete removes the task once', async () => {
      const cls = uniqueClass('Delete')
      await store.create(task(`${cls}-1`, cls))
      assert.equal(await store.delete(`${cls}-1`), true)
      assert.equal(await other.delete(`${cls}-1`), false)
      assert.equal(await store.get(`${cls}-1`), null)
      await store.create(task(`${cls}-1`, cls))
      assert.ok(await store.get(`${cls}-1`), 'the id can be reused after delete')
    })

    void it('keeps a timeline per task: oldest first, a change recorded twice kept once, deleted with the task', async () => {
      const cls = uniqueClass('Timeline')
      const id = `${cls}-1`
      await store.create(task(id, cls))
      const entry = (at: number, lifecycleStatus: TaskLifecycleStatus, executor: string | null, attempt: number, message: string | null = null): TimelineEntry => ({
        taskId: id,
        at,
        lifecycleStatus,
        executor,
        attempt,
        message,
      })
        const t0 = Date.now() + 60_000
      const seen = [entry(t0, 'Created', null, 0), entry(t0 + 5, 'Assigning', 'node-a', 0), entry(t0 + 9, 'Running', 'node-a', 1), entry(t0 + 20, 'Failed', 'node-a', 1, 'boom')]
      // two controllers saw the same changes, in different batches and orders
      await store.appendTimeline(seen.slice(0, 3))
      await other.appendTimeline([seen[3]!, seen[1]!, seen[2]!])
      await store.appendTimeline([])
      assert.deepEqual((await other.timeline(id)).slice(1), seen, 'after the entry of its creation')
      assert.deepEqual(await store.timeline(id, 2), seen.slice(2), 'the newest `limit`, oldest first')
      assert.deepEqual(await store.timeline(`${cls}-absent`), [])
      const long = 'x'.repeat(5000)
      await store.appendTimeline([entry(t0 + 30, 'Failed', 'node-b', 2, long)])
      const last = (await store.timeline(id)).at(-1)!
      assert.ok(last.message!.length <= 1024 && last.message!.endsWith('…'), 'a long message is cut')
      await assert.rejects(store.appendTimeline([entry(t0 + 40, 'Bogus' as TaskLifecycleStatus, null, 0)]), (e: unknown) => e instanceof TaskValidationError && e.field === 'lifecycleStatus')
      await assert.rejects(store.appendTimeline([{ ...entry(t0 + 40, 'Running', null, 0), at: -1 }]), (e: unknown) => e instanceof TaskValidationError && e.field === 'at')
      await assert.rejects(store.timeline(id, 0), (e: unknown) => e instanceof TaskQueryError)
      assert.equal((await store.timeline(id)).length, 6, 'a refused batch writes nothing')
      assert.equal(await store.delete(id), true)
      assert.deepEqual(await other.timeline(id), [], 'deleted with its task')
    })

    void it('records a new task and every change of its status or node in its timeline, from any connection', async () => {
      const cls = uniqueClass('TimelineWrites')
      const id = `${cls}-1`
      const created = await store.create(task(id, cls))
      const claimed = await other.claim(id, { executor: 'node-a', expectEpoch: 0 })
      const running = await store.update(id, { lifecycleStatus: 'Running', runtime: { attempt: 1 } })
      await other.update(id, { attachments: { x: 1 } })
      await store.update(id, { priority: 3 })
      const failed = await other.update(id, { lifecycleStatus: 'Failed', runtime: { lastError: 'boom: exit 3' } })
      const again = await store.update(id, { lifecycleStatus: 'Created', executor: null })
      const moved = await other.claim(id, { executor: 'node-b', expectEpoch: again.runtime.epoch })
      const brief = (t: Task) => [t.updateDateTime, t.lifecycleStatus, t.executor, t.runtime.attempt]
      assert.deepEqual(
        (await store.timeline(id)).map((e) => [e.at, e.lifecycleStatus, e.executor, e.attempt]),
        [created, claimed, running, failed, again, moved].map(brief),
        'a write that changes neither status nor node adds nothing',
      )
      assert.equal((await other.timeline(id)).find((e) => e.lifecycleStatus === 'Failed')?.message, 'boom: exit 3')
      // a controller that saw the same changes through its feed records nothing twice
      await other.appendTimeline([running, failed].map((t) => ({ taskId: id, at: t.updateDateTime, lifecycleStatus: t.lifecycleStatus, executor: t.executor, attempt: t.runtime.attempt, message: null })))
      assert.equal((await store.timeline(id)).length, 6)
    })

    void it('cuts a timeline to its newest entries when the task goes back to Created', async () => {
      const cls = uniqueClass('TimelineCut')
      const id = `${cls}-1`
      const t0 = Date.now()
      const statuses: TaskLifecycleStatus[] = ['Created', 'Assigning', 'Running', 'Failed']
      const entries: TimelineEntry[] = []
      for (let i = 0; entries.length < TIMELINE_MAX_ENTRIES + 60; i++) {
        entries.push({ taskId: id, at: t0 + i, lifecycleStatus: statuses[i % 4]!, executor: 'n', attempt: Math.floor(i / 4), message: null })
      }
      for (let i = 0; i < entries.length; i += 50) await store.appendTimeline(entries.slice(i, i + 50))
      const kept = await other.timeline(id, 10_000)
      assert.ok(kept.length <= TIMELINE_MAX_ENTRIES, `kept ${kept.length}`)
      assert.deepEqual(kept.at(-1), entries.at(-1), 'the newest are kept')
      await store.appendTimeline([{ taskId: id, at: t0 + 100_000, lifecycleStatus: 'Created', executor: null, attempt: 99, message: null }])
      const after = await store.timeline(id)
      assert.equal(after.length, TIMELINE_MAX_ENTRIES)
      assert.equal(after.at(-1)!.attempt, 99)
    })
  })
}
