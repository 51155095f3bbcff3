// The task runtime part of the TaskStore contract (epoch fencing, claim, checkpoint, merge), run on every store
// from its test file (store-sqlite.test.ts, store-mongo.test.ts).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { TaskValidationError } from '../../src/model/errors.ts'
import { MAX_CHECKPOINT_BYTES, defaultTaskRuntime } from '../../src/model/task.ts'
import { TaskConflictError, TaskNotFoundError } from '../../src/store/errors.ts'
import type { TaskStore } from '../../src/store/task-store.ts'

export interface RuntimeHarness {
  /** a new, independent connection to the same data (each call = one more controller or node) */
  open(): Promise<TaskStore>
  /** removes what the run created; called once at the end */
  cleanup(): Promise<void>
}

export function taskRuntimeContract(name: string, makeHarness: () => Promise<RuntimeHarness>): void {
  void describe(`TaskStore runtime contract: ${name}`, () => {
    let harness: RuntimeHarness
    const stores: TaskStore[] = []
    const id = (label: string): string => `rt-${label}-${randomUUID().slice(0, 8)}`

    before(async () => {
      harness = await makeHarness()
      for (let i = 0; i < 4; i++) stores.push(await harness.open())
    })
    after(async () => {
      for (const s of stores) await s.close()
      await harness.cleanup()
    })

    void it('round trip: defaults on create, given fields kept, patches merged field by field, visible to another connection', async () => {
      const [a, b] = [stores[0]!, stores[1]!]
      const plain = await a.create({ id: id('plain'), className: 'W', source: 'RuntimeTest' })
      assert.deepEqual(plain.runtime, defaultTaskRuntime())
      assert.deepEqual(await b.get(plain.id), plain)

      const t = await a.create({ id: id('rt'), className: 'W', source: 'RuntimeTest', runtime: { maxRetries: 2 } })
      const checkpoint = { frame: 1200, 'odd.key': { $dollar: [1, 'two', null, true] }, text: 'é ✓' }
      const u = await a.update(t.id, { runtime: { attempt: 1, checkpoint, lastError: 'boom', pausedAt: 1724131200123, notBefore: 1724131260123 } })
      assert.deepEqual(u.runtime, { epoch: 0, attempt: 1, maxRetries: 2, checkpoint, lastError: 'boom', pausedAt: 1724131200123, notBefore: 1724131260123 })
      assert.deepEqual(await b.get(t.id), u)
      // A patch without runtime, and one naming other runtime fields, leave the rest of runtime as it was.
      await b.update(t.id, { priority: 5 })
      const v = await b.update(t.id, { runtime: { pausedAt: null } })
      assert.deepEqual(v.runtime, { ...u.runtime, pausedAt: null })
      assert.deepEqual(await a.get(t.id), v)
      assert.deepEqual((await a.getMany([t.id]))[0]?.runtime, v.runtime)
      assert.deepEqual((await a.list({ text: t.id })).items[0]?.runtime, v.runtime)
    })

    void it('claim: executor, status Assigning and epoch + 1 in one write; a stale epoch or an unexpected status loses', async () => {
      const s = stores[0]!
      const t = await s.create({ id: id('claim'), className: 'W', source: 'RuntimeTest', runtime: { checkpoint: { at: 3 } } })
      const c = await s.claim(t.id, { executor: 'node-a', expectEpoch: 0, expectStatus: ['Created', 'Failed'] })
      assert.equal(c.executor, 'node-a')
      assert.equal(c.lifecycleStatus, 'Assigning')
      assert.equal(c.runtime.epoch, 1)
      assert.deepEqual(c.runtime.checkpoint, { at: 3 }, 'the checkpoint survives the re-assignment (resume)')
      assert.ok(c.updateDateTime > t.updateDateTime)

      await assert.rejects(s.claim(t.id, { executor: 'node-b', expectEpoch: 0 }), (e: unknown) => {
        assert.ok(e instanceof TaskConflictError)
        assert.match(e.message, /runtime\.epoch is 1, expected 0/)
        assert.equal(e.current?.runtime.epoch, 1)
        assert.equal(e.current?.executor, 'node-a')
        return true
      })
      await assert.rejects(s.claim(t.id, { executor: 'node-b', expectEpoch: 1, expectStatus: 'Created' }), TaskConflictError)
      // Without expectEpoch the current one is read: failover to another node moves the epoch on.
      const moved = await s.claim(t.id, { executor: 'node-b', lifecycleStatus: 'Assigning', runtime: { pausedAt: null } })
      assert.equal(moved.runtime.epoch, 2)
      assert.equal(moved.executor, 'node-b')
      await assert.rejects(s.claim(id('missing'), { executor: 'n' }), TaskNotFoundError)
      await assert.rejects(s.claim(id('missing'), { executor: 'n', expectEpoch: 0 }), TaskNotFoundError)
    })

    void it('fencing: a node writes only while its epoch is current (expect.epoch)', async () => {
      const s = stores[0]!
      const t = await s.create({ id: id('fence'), className: 'W', source: 'RuntimeTest' })
      const mine = await s.claim(t.id, { executor: 'node-a' })
      const running = await s.update(t.id, { lifecycleStatus: 'Running', runtime: { attempt: 1 } }, { expect: { epoch: mine.runtime.epoch } })
      assert.equal(running.runtime.attempt, 1)
      await stores[1]!.claim(t.id, { executor: 'node-b', expectEpoch: mine.runtime.epoch })
      // node-a comes back from a partition: its status write is refused, the task stays node-b's.
      await assert.rejects(s.update(t.id, { lifecycleStatus: 'Finished' }, { expect: { epoch: mine.runtime.epoch } }), TaskConflictError)
      const now = await s.get(t.id)
      assert.equal(now?.executor, 'node-b')
      assert.equal(now?.lifecycleStatus, 'Assigning')
      assert.equal(now?.runtime.attempt, 1)
    })

    void it('claim race: of several claimers that read the same epoch exactly one wins, on separate connections', async () => {
      for (let round = 0; round < 5; round++) {
        const t = await stores[0]!.create({ id: id(`race${round}`), className: 'W', source: 'RuntimeTest' })
        const results = await Promise.allSettled(stores.map((s, i) => s.claim(t.id, { executor: `node-${i}`, expectEpoch: 0, expectStatus: 'Created' })))
        const won = results.filter((r) => r.status === 'fulfilled')
        const lost = results.filter((r) => r.status === 'rejected')
        assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.status))}`)
        for (const r of lost) assert.ok(r.reason instanceof TaskConflictError, String(r.reason))
        const stored = await stores[0]!.get(t.id)
        assert.equal(stored?.runtime.epoch, 1)
        assert.equal(stored?.executor, won[0]!.value.executor)
      }
    })

    void it('checkpoint bound: an oversized or non-JSON checkpoint is refused naming the field, nothing written', async () => {
      const s = stores[0]!
      const t = await s.create({ id: id('big'), className: 'W', source: 'RuntimeTest', runtime: { checkpoint: { ok: true } } })
      const fits = { blob: 'x'.repeat(MAX_CHECKPOINT_BYTES - 20) }
      assert.deepEqual((await s.update(t.id, { runtime: { checkpoint: fits } })).runtime.checkpoint, fits)
      await assert.rejects(
        s.update(t.id, { runtime: { checkpoint: { blob: 'x'.repeat(MAX_CHECKPOINT_BYTES) } } }),
        (e: unknown) => e instanceof TaskValidationError && e.field === 'runtime.checkpoint' && /more than 65536/.test(e.message),
      )
      await assert.rejects(
        s.update(t.id, { runtime: { epoch: -1 } }),
        (e: unknown) => e instanceof TaskValidationError && e.field === 'runtime.epoch',
      )
      assert.deepEqual((await s.get(t.id))?.runtime.checkpoint, fits)
    })
  })
}
