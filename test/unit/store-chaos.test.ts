// ChaosTaskStore over the SQLite store: the TaskStore contract in pass-through mode, then each fault on demand.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ChaosTaskStore, STORE_READS, STORE_WRITES } from '../../src/store/chaos.ts'
import { StoreUnavailableError, TaskConflictError, TaskExistsError, TaskNotFoundError, TaskQueryError } from '../../src/store/errors.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import { taskStoreContract } from '../contracts/store-contract.ts'
import { taskRuntimeContract } from '../contracts/task-runtime-contract.ts'
import { sleep } from '../helpers/wait.ts'

/** A fresh SQLite file, every store opened on it wrapped (healthy: pass-through). */
function chaosHarness(): Promise<{ open(): Promise<ChaosTaskStore>; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-store-chaos-'))
  const path = join(dir, 'tasks.db')
  return Promise.resolve({
    open: () => Promise.resolve(new ChaosTaskStore(SqliteTaskStore.open({ path }))),
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  })
}

taskStoreContract('chaos(sqlite), healthy', chaosHarness)
taskRuntimeContract('chaos(sqlite), healthy', chaosHarness)

void describe('ChaosTaskStore faults on the SQLite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-store-chaos-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const open = (): ChaosTaskStore => new ChaosTaskStore(SqliteTaskStore.open({ path: join(dir, `tasks-${++n}.db`) }))
  const input = (id: string) => ({ id, className: 'W', source: 'chaos-test' })

  void it('alwaysThrow: calls reject without reaching the store, until heal()', async () => {
    const store = open()
    await store.create(input('a'))
    store.alwaysThrow()
    await assert.rejects(store.get('a'), StoreUnavailableError)
    await assert.rejects(store.create(input('b')), StoreUnavailableError)
    await assert.rejects(store.list(), StoreUnavailableError)
    store.alwaysThrow(new Error('custom'), ['delete'])
    await assert.rejects(store.delete('a'), /custom/)
    store.heal()
    assert.equal(await store.get('b'), null, 'the failed create never reached the store')
    assert.equal((await store.get('a'))?.id, 'a')
    assert.equal(store.calls, 7)
    await store.close()
  })

  void it('faults apply to the operations given: reads fail while writes go through', async () => {
    const store = open()
    store.alwaysThrow(undefined, STORE_READS)
    await store.create(input('w'))
    await store.update('w', { priority: 3 })
    await assert.rejects(store.get('w'), StoreUnavailableError)
    await assert.rejects(store.count(), StoreUnavailableError)
    store.heal(STORE_READS)
    assert.equal((await store.get('w'))?.priority, 3)
    await store.close()
  })

  void it('alwaysStall: calls wait for the given time, or until heal()', async () => {
    const store = open()
    store.alwaysStall(100, ['create'])
    const started = Date.now()
    await store.create(input('s1'))
    assert.ok(Date.now() - started >= 90, `waited ${Date.now() - started} ms`)
    store.alwaysStall(undefined, ['get'])
    let done = false
    const pending = store.get('s1').then((task) => {
      done = true
      return task
    })
    await sleep(100)
    assert.equal(done, false, 'a stall without a time lasts until heal()')
    store.heal(['get'])
    assert.equal((await pending)?.id, 's1')
    await store.close()
  })

  void it('alwaysDrop: writes take effect but their replies are lost; a retry meets what the first call did', async () => {
    const store = open()
    store.alwaysDrop(STORE_WRITES)
    await assert.rejects(store.create(input('d')), StoreUnavailableError)
    await assert.rejects(store.create(input('d')), (error: unknown) => error instanceof StoreUnavailableError && error.cause instanceof TaskExistsError)
    store.heal()
    await assert.rejects(store.create(input('d')), TaskExistsError, 'the first create took effect')
    const read = (await store.get('d'))!
    store.alwaysDrop(['update'])
    await assert.rejects(store.update('d', { priority: 5 }, { expectedUpdateDateTime: read.updateDateTime }), StoreUnavailableError)
    store.heal()
    await assert.rejects(store.update('d', { priority: 5 }, { expectedUpdateDateTime: read.updateDateTime }), TaskConflictError, 'the first update took effect')
    assert.equal((await store.get('d'))?.priority, 5)
    store.alwaysDrop(['claim'])
    await assert.rejects(store.claim('d', { executor: 'node-a', expectEpoch: 0 }), StoreUnavailableError)
    store.heal()
    await assert.rejects(store.claim('d', { executor: 'node-a', expectEpoch: 0 }), TaskConflictError, 'the first claim took effect')
    assert.equal((await store.get('d'))?.executor, 'node-a')
    store.alwaysDrop(['delete'])
    await assert.rejects(store.delete('d'), StoreUnavailableError)
    store.heal()
    assert.equal(await store.delete('d'), false)
    await assert.rejects(store.update('d', { priority: 1 }), TaskNotFoundError)
    await store.close()
  })

  void it('rejects faults that make no sense; close() heals and never waits for a stall', async () => {
    const store = open()
    assert.throws(() => store.alwaysStall(-1), TaskQueryError)
    assert.throws(() => store.alwaysThrow(undefined, ['close' as never]), TaskQueryError)
    store.alwaysStall()
    const pending = store.count()
    await store.close()
    await assert.rejects(pending, StoreUnavailableError, 'released by close(), the call meets the closed store')
    assert.equal(store.kind, 'sqlite')
  })
})
