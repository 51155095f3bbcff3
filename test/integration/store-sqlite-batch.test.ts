// The SQLite store's group commit (src/store/sqlite-write-batch.ts): writes asked for together share one
// transaction, each keeps its own result or error, order holds, a busy file delays, never loses.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { TaskConflictError, TaskExistsError } from '../../src/store/index.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import { SqliteWriteBatch } from '../../src/store/sqlite-write-batch.ts'

function tempDir(): { path: string; [Symbol.dispose]: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-batch-'))
  return { path: dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A database whose transactions are counted (each BEGIN IMMEDIATE that took the lock). */
function countedDb(path: string): { db: DatabaseSync; begins: () => number } {
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER NOT NULL) STRICT')
  let begins = 0
  const exec = db.exec.bind(db)
  db.exec = (sql: string): void => {
    exec(sql)
    if (sql === 'BEGIN IMMEDIATE') begins++
  }
  return { db, begins: () => begins }
}

void test('sqlite group commit: writes asked for in one turn share one transaction, each with its own outcome', async () => {
  using dir = tempDir()
  const { db, begins } = countedDb(join(dir.path, 'b.db'))
  const batch = new SqliteWriteBatch(() => db, 1000)
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)')
  const results = await Promise.allSettled([
    batch.write(() => insert.run('a', 1)),
    batch.write(() => {
      insert.run('b', 2)
      throw new Error('refused after writing b')
    }),
    batch.write(() => insert.run('a', 3)), // duplicate key: fails alone
    batch.write(() => insert.run('c', 4)),
    // a read does not wait for the writes (nor take the write lock): it sees what is committed
    batch.read(() => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n),
  ])
  assert.equal(begins(), 1, 'one transaction for all four writes')
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'])
  assert.match(String((results[1] as PromiseRejectedResult).reason), /refused after writing b/)
  assert.equal((results[4] as PromiseFulfilledResult<number>).value, 0, 'the read ran before the commit')
  assert.equal(await batch.read(() => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n), 2, 'a read after the answers sees the writes')
  const rows = db.prepare('SELECT k, v FROM t ORDER BY k').all()
  assert.deepEqual(rows.map((r) => [r.k, r.v]), [['a', 1], ['c', 4]], 'the failed writes left nothing, the others committed')
  db.close()
})

void test('sqlite group commit: a lone write that fails leaves nothing behind', async () => {
  using dir = tempDir()
  const { db } = countedDb(join(dir.path, 'b.db'))
  const batch = new SqliteWriteBatch(() => db, 1000)
  await assert.rejects(
    batch.write(() => {
      db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('lone', 1)
      throw new Error('refused after writing')
    }),
    /refused after writing/,
  )
  assert.equal(db.prepare('SELECT COUNT(*) AS n FROM t').get()?.n, 0)
  assert.equal(db.isTransaction, false)
  db.close()
})

void test('sqlite group commit: a batch waits for another connection’s write lock, then commits in order', async () => {
  using dir = tempDir()
  const path = join(dir.path, 'b.db')
  const { db, begins } = countedDb(path)
  const holder = new DatabaseSync(path)
  holder.exec('BEGIN IMMEDIATE')
  const batch = new SqliteWriteBatch(() => db, 5000)
  const upsert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v')
  const writes = [1, 2, 3].map((v) => batch.write(() => upsert.run('k', v)))
  let answered = false
  void Promise.all(writes).then(() => (answered = true))
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(answered, false, 'nothing answered while the file is locked')
  holder.exec('COMMIT')
  await Promise.all(writes)
  assert.equal((db.prepare('SELECT v FROM t WHERE k = ?').get('k') as { v: number }).v, 3, 'applied in the order asked')
  assert.equal(begins(), 1)
  await batch.settled()
  holder.close()
  db.close()
})

void test('sqlite store: concurrent creates and compare-and-sets keep their own errors; close answers what was asked', async () => {
  using dir = tempDir()
  const store = SqliteTaskStore.open({ path: join(dir.path, 'tasks.db') })
  await store.create({ id: 'taken', className: 'X', source: 't' })
  const created = await Promise.allSettled([
    store.create({ id: 'n1', className: 'X', source: 't' }),
    store.create({ id: 'taken', className: 'X', source: 't' }),
    store.create({ id: 'n2', className: 'X', source: 't' }),
  ])
  assert.deepEqual(created.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  assert.ok((created[1] as PromiseRejectedResult).reason instanceof TaskExistsError)
  // Two claims on one epoch in one batch: exactly one wins.
  const claims = await Promise.allSettled(['s1', 's2'].map((executor) => store.claim('n1', { executor, expectEpoch: 0, expectStatus: 'Created' })))
  assert.equal(claims.filter((c) => c.status === 'fulfilled').length, 1)
  assert.ok((claims.find((c) => c.status === 'rejected') as PromiseRejectedResult).reason instanceof TaskConflictError)
  const last = store.update('n2', { priority: 7 })
  await store.close()
  assert.equal((await last).priority, 7, 'a write asked for before close is answered')
  const reopened = SqliteTaskStore.open({ path: join(dir.path, 'tasks.db') })
  assert.equal((await reopened.get('n2'))?.priority, 7)
  assert.equal((await reopened.get('n1'))?.runtime.epoch, 1)
  await reopened.close()
})
