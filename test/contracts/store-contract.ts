// The TaskStore contract: one suite, run against every implementation (store-sqlite.test.ts, store-mongo.test.ts).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { TaskValidationError, type Task, type TaskInput } from '../../src/model/index.ts'
import { TaskConflictError, TaskExistsError, TaskNotFoundError, TaskQueryError, type TaskStore } from '../../src/store/index.ts'

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

      void it("default sort is createDateTime desc, ties broken by id in the first key's direction", async () => {
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

      void it('invalid queries name the option', async () => {
        await assert.rejects(store.list({ limit: 0 }), (e: unknown) => e instanceof TaskQueryError && /limit/.test(e.message))
        await assert.rejects(store.list({ offset: -1 }), /offset/)
        await assert.rejects(store.list({ sort: { field: 'bogus' as never } }), /sort\.field/)
        await assert.rejects(store.list({ lifecycleStatus: 'running' as never }), /lifecycleStatus: unknown status "running"/)
        await assert.rejects(store.count({ createdFrom: 1.5 }), /createdFrom/)
      })
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
  })
}
