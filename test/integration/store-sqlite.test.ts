// The TaskStore contract on SQLite (in-process: no server), plus what only the SQLite file has.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import { defaultTaskRuntime } from '../../src/model/task.ts'
import { LIFECYCLE_STATUSES, type TaskLifecycleStatus } from '../../src/model/index.ts'
import { StoreOptionsError, StoreUnavailableError, TaskConflictError } from '../../src/store/index.ts'
import { SqliteTaskStore } from '../../src/store/engines/sqlite.ts'
import { ChaosTaskStore } from '../../src/store/chaos.ts'
import { recordTimeline } from '../../src/controller/task-timeline.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { CHANGED_SINCE_SQL, sqliteListPageSql } from '../../src/store/sqlite-sql.ts'
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite-migrations.ts'
import { LIST_SHAPES, SHAPE_T0, taskStoreContract } from '../contracts/store-contract.ts'
import { taskRuntimeContract } from '../contracts/task-runtime-contract.ts'

taskStoreContract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-store-'))
  const path = join(dir, 'tasks.db')
  return Promise.resolve({
    open: () => Promise.resolve(SqliteTaskStore.open({ path })),
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  })
})

/** The indexes of the latest schema, besides the primary key's. */
const LIST_INDEXES = [
  'tasks_created',
  'tasks_status_created',
  'tasks_class_created',
  'tasks_class_status_created',
  'tasks_executor_created',
  'tasks_mode_created',
  'tasks_updated',
  'tasks_dispatch',
] as const

function tempPath(): { path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-store-'))
  return { path: join(dir, 'nested', 'tasks.db'), dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

void test('sqlite: WAL journal, schema version recorded, indexes present, data survives reopening', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = SqliteTaskStore.open({ path })
    await store.create({ id: 't1', className: 'W', source: 's', attachments: { deep: { list: [1, 'two', null] } } })
    await store.close()
    await store.close()
    const raw = new DatabaseSync(path)
    assert.equal((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
    assert.equal((raw.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SQLITE_SCHEMA_VERSION)
    const indexes = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'`).all() as { name: string }[]).map((r) => r.name)
    assert.deepEqual(indexes.filter((n) => !n.startsWith('sqlite_autoindex_')).sort(), [...LIST_INDEXES].sort())
    assert.equal((raw.prepare('SELECT attachments FROM tasks').get() as { attachments: string }).attachments, '{"deep":{"list":[1,"two",null]}}')
    raw.close()
    const again = SqliteTaskStore.open({ path })
    assert.deepEqual((await again.get('t1'))?.attachments, { deep: { list: [1, 'two', null] } })
    await again.close()
    await assert.rejects(again.get('t1'), StoreUnavailableError)
  } finally {
    dispose()
  }
})

void test('sqlite: a write waits for another connection’s write lock without blocking the event loop, and gives up after busyTimeout', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = SqliteTaskStore.open({ path, busyTimeout: '2s' })
    await store.create({ id: 'b1', className: 'W', source: 's' })
    const other = new DatabaseSync(path)
    other.exec('BEGIN IMMEDIATE')
    let ticks = 0
    const ticker = setInterval(() => ticks++, 5)
    const t0 = performance.now()
    const update = store.update('b1', { priority: 7 })
    const create = store.create({ id: 'b2', className: 'W', source: 's' })
    // SQLite's own busy handler would sleep inside the call: no timer could fire while the lock is held
    await new Promise((resolve) => setTimeout(resolve, 150))
    other.exec('COMMIT')
    assert.equal((await update).priority, 7)
    assert.equal((await create).id, 'b2')
    clearInterval(ticker)
    assert.ok(ticks >= 10, `the event loop turned ${ticks} times in ${Math.round(performance.now() - t0)} ms while the write waited`)
    // held past the timeout: a clear StoreUnavailableError, and nothing written
    const short = SqliteTaskStore.open({ path, busyTimeout: '100ms' })
    other.exec('BEGIN IMMEDIATE')
    await assert.rejects(short.update('b1', { priority: 9 }), (e: unknown) => e instanceof StoreUnavailableError && /stayed locked by another writer for 100 ms/.test(e.message))
    await assert.rejects(short.appendTimeline([{ taskId: 'b1', at: 1, lifecycleStatus: 'Created', executor: null, attempt: 0, message: null }]), StoreUnavailableError)
    other.exec('ROLLBACK')
    assert.equal((await short.get('b1'))?.priority, 7)
    other.close()
    await short.close()
    await store.close()
  } finally {
    dispose()
  }
})

void test('sqlite: the file records every writer’s changes, so a controller’s feed records none', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = new ChaosTaskStore(SqliteTaskStore.open({ path }))
    assert.equal(store.timelineRecordsEveryWriter, true)
    const task = await store.create({ id: 'f1', className: 'W', source: 's' })
    const before = store.calls
    recordTimeline(store, [{ task: { ...task, lifecycleStatus: 'Running' }, previous: task }], silentLogger)
    assert.equal(store.calls, before, 'no store call: the triggers recorded the change already')
    await store.close()
  } finally {
    dispose()
  }
})

void test('sqlite: a database from a newer schema version is refused, not damaged', () => {
  const { path, dispose } = tempPath()
  try {
    SqliteTaskStore.open({ path }).close().catch(() => {})
    const raw = new DatabaseSync(path)
    raw.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`)
    raw.close()
    assert.throws(() => SqliteTaskStore.open({ path }), (e: unknown) => e instanceof StoreUnavailableError && /newer than this library knows/.test(e.message))
  } finally {
    dispose()
  }
})

void test('sqlite: a write from outside the store (another process) is seen by compare-and-set', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = SqliteTaskStore.open({ path })
    const t = await store.create({ id: 't1', className: 'W', source: 's' })
    const raw = new DatabaseSync(path)
    raw.prepare('UPDATE tasks SET update_date_time = update_date_time + 5, priority = 4 WHERE id = ?').run('t1')
    raw.close()
    await assert.rejects(store.update('t1', { priority: 1 }, { expectedUpdateDateTime: t.updateDateTime }), TaskConflictError)
    assert.equal((await store.get('t1'))?.priority, 4)
    await store.close()
  } finally {
    dispose()
  }
})

void test('sqlite: :memory: works and a path is required', async () => {
  const store = SqliteTaskStore.open({ path: ':memory:' })
  await store.create({ id: 'm', className: 'W', source: 's' })
  assert.equal(await store.count(), 1)
  await store.close()
  assert.throws(() => SqliteTaskStore.open({ path: '' }), (e: unknown) => e instanceof StoreOptionsError && /path: must be a non-empty string/.test(e.message))
})

void test('sqlite: two processes racing compare-and-set increments on one file lose none', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = SqliteTaskStore.open({ path })
    await store.create({ id: 'counter', className: 'W', source: 's', attachments: { n: 0 } })
    const writer = new URL('../fixtures/sqlite-cas-writer.ts', import.meta.url).pathname
    const run = promisify(execFile)
    const perProcess = 40
    const startAt = String(Date.now() + 1500)
    const outputs = await Promise.all([1, 2].map(() => run(process.execPath, [writer, path, 'counter', String(perProcess), startAt], { timeout: 120_000 })))
    const conflicts = outputs.map(({ stdout }) => (JSON.parse(stdout) as { conflicts: number }).conflicts)
    // Not asserted > 0 (scheduling decides), but reported: a run with conflicts is one where CAS did the work.
    console.log(`sqlite cross-process race: conflicts per process ${conflicts.join(', ')}`)
    assert.equal((await store.get('counter'))?.attachments?.n, 2 * perProcess)
    await store.close()
  } finally {
    dispose()
  }
})

taskRuntimeContract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-runtime-'))
  const path = join(dir, 'tasks.db')
  return Promise.resolve({ open: () => Promise.resolve(SqliteTaskStore.open({ path })), cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) })
})

void test('sqlite: a version-1 file is migrated to the latest version in place: rows kept, runtime defaults, then stored', async () => {
  const { path, dispose } = tempPath()
  try {
    mkdirSync(dirname(path), { recursive: true })
    const v1 = new DatabaseSync(path)
    v1.exec(SQLITE_MIGRATIONS.find((m) => m.version === 1)!.sql)
    v1.exec('PRAGMA user_version = 1')
    v1.prepare(
      `INSERT INTO tasks VALUES ('old', 'W', 'YAML', 'n', NULL, 'node-1', '["a"]', 'Passive', 1, 1724131200000, 1724131200001, 0, 'Running', 3, '{"k":1}')`,
    ).run()
    v1.close()

    const store = SqliteTaskStore.open({ path })
    const old = await store.get('old')
    assert.deepEqual(old, {
      id: 'old', className: 'W', source: 'YAML', name: 'n', description: null, executor: 'node-1', dependencies: ['a'], mode: 'Passive',
      isPersistent: true, createDateTime: 1724131200000, updateDateTime: 1724131200001, deadlineDateTime: 0, lifecycleStatus: 'Running',
      priority: 3, attachments: { k: 1 }, runtime: defaultTaskRuntime(),
    })
    const claimed = await store.claim('old', { executor: 'node-2', expectEpoch: 0 })
    assert.equal(claimed.runtime.epoch, 1)
    await store.close()

    const raw = new DatabaseSync(path)
    assert.equal((raw.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SQLITE_SCHEMA_VERSION)
    const row = raw.prepare('SELECT runtime, attachments FROM tasks WHERE id = ?').get('old') as { runtime: string; attachments: string }
    assert.deepEqual(JSON.parse(row.runtime), { ...defaultTaskRuntime(), epoch: 1 })
    assert.equal(row.attachments, '{"k":1}')
    raw.close()
  } finally {
    dispose()
  }
})

void test('sqlite: changedSince reads the (update_date_time, id) index alone, in order, no row', async () => {
  const { path, dispose } = tempPath()
  try {
    await SqliteTaskStore.open({ path }).close()
    const db = new DatabaseSync(path)
    const plan = planOf(db, { sql: CHANGED_SINCE_SQL, params: [SHAPE_T0, 100, 0] })
    db.close()
    assert.deepEqual(plan, ['SEARCH tasks USING COVERING INDEX tasks_updated (update_date_time>?)'])
  } finally {
    dispose()
  }
})

function planOf(db: DatabaseSync, statement: { sql: string; params: SQLInputValue[] }): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).all(...statement.params) as { detail: string }[]).map((r) => r.detail)
}

const T0 = SHAPE_T0

function assertPlan(db: DatabaseSync, shape: (typeof LIST_SHAPES)[number], when: string): void {
  const plan = planOf(db, sqliteListPageSql({ limit: 20, ...shape.query }))
  const where = `${shape.label} (${when}): ${plan.join(' | ')}`
  const expected = shape.sqlite
  assert.ok(!plan.some((line) => line.includes('USE TEMP B-TREE')), `no sort step: ${where}`)
  const reads = plan.filter((line) => /^(SCAN|SEARCH) tasks\b/.test(line))
  assert.equal(reads.length, expected.ranges ?? 1, `one index range per combination: ${where}`)
  for (const line of reads) {
    assert.match(line, new RegExp(`USING INDEX ${expected.index}\\b`), `served by ${expected.index}: ${where}`)
    if (expected.detail) assert.match(line, expected.detail, where)
  }
}

void test('sqlite: every list shape reads one index in order (no sort step), before and after ANALYZE on skewed data', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = SqliteTaskStore.open({ path })
    const raw = new DatabaseSync(path)
    // The planner has no statistics yet: the plans must not depend on them.
    for (const shape of LIST_SHAPES) assertPlan(raw, shape, 'no statistics')
    // A skewed table (most tasks Finished, one class, few Active), then statistics that could tempt the planner
    // into another index: the plans must hold.
    for (let i = 0; i < 2000; i++) {
      await store.create({
        id: `t${i}`,
        className: i % 20 === 0 ? 'B' : 'A',
        source: 's',
        lifecycleStatus: i % 10 === 0 ? 'Failed' : i % 50 === 1 ? 'Created' : 'Finished',
        mode: i % 40 === 0 ? 'Active' : 'Passive',
        executor: i % 3 === 0 ? null : `node-${i % 4}`,
        priority: i % 11,
        createDateTime: T0 + i,
        updateDateTime: T0 + i,
      })
    }
    raw.exec('ANALYZE')
    for (const shape of LIST_SHAPES) assertPlan(raw, shape, 'after ANALYZE')
    // The test is the guard: without the index, the same query sorts.
    raw.exec('DROP INDEX tasks_status_created')
    assert.throws(() => assertPlan(raw, LIST_SHAPES.find((s) => s.label === 'one status')!, 'index dropped'), /no sort step|served by/)
    raw.close()
    await store.close()
  } finally {
    dispose()
  }
})

/** The counts table as stored, statuses with 0 left out. */
function countsTable(db: DatabaseSync): Record<string, number> {
  const rows = db.prepare('SELECT lifecycle_status AS s, n FROM task_status_counts WHERE n <> 0 ORDER BY s').all() as { s: string; n: number }[]
  return Object.fromEntries(rows.map((r) => [r.s, r.n]))
}

/** The same, counted from the table itself. */
function scannedCounts(db: DatabaseSync): Record<string, number> {
  const rows = db.prepare('SELECT lifecycle_status AS s, COUNT(*) AS n FROM tasks NOT INDEXED GROUP BY s ORDER BY s').all() as { s: string; n: number }[]
  return Object.fromEntries(rows.map((r) => [r.s, r.n]))
}

void test('sqlite: status counts come from the counts table, which triggers keep exact under any writer of the file', async () => {
  const { path, dispose } = tempPath()
  try {
    const store = SqliteTaskStore.open({ path })
    for (let i = 0; i < 30; i++) await store.create({ id: `t${i}`, className: i % 2 ? 'A' : 'B', source: 's', lifecycleStatus: LIFECYCLE_STATUSES[i % 7]! })
    const raw = new DatabaseSync(path)
    assert.deepEqual(countsTable(raw), scannedCounts(raw))
    // Another process's plain SQL fires the same triggers: a multi-row status change, an update of another column,
    // a status set to the value it has, an unknown status, deletes.
    raw.exec(`UPDATE tasks SET lifecycle_status = 'Cancelled' WHERE class_name = 'A' AND lifecycle_status IN ('Created', 'Running')`)
    raw.exec(`UPDATE tasks SET priority = 3, lifecycle_status = lifecycle_status WHERE id IN ('t1', 't2')`)
    raw.exec(`UPDATE tasks SET lifecycle_status = 'Archived' WHERE id = 't3'`)
    raw.exec(`DELETE FROM tasks WHERE lifecycle_status = 'Failed'`)
    raw.prepare(`INSERT INTO tasks (id, class_name, source, mode, is_persistent, create_date_time, update_date_time, deadline_date_time, lifecycle_status, priority)
                 VALUES ('outside', 'A', 's', 'Passive', 1, 1, 1, 0, 'Paused', 0)`).run()
    assert.deepEqual(countsTable(raw), scannedCounts(raw))
    const fromScan = scannedCounts(raw)
    const byStatus = await store.countByStatus()
    for (const s of LIFECYCLE_STATUSES) assert.equal(byStatus[s], fromScan[s] ?? 0, s)
    const rows = (raw.prepare('SELECT COUNT(*) AS n FROM tasks').get() as { n: number }).n
    assert.equal(await store.count(), rows, 'every task, the unknown status included')

    // The O(1) paths read the table, not the rows: skew the table and watch them follow.
    raw.exec(`UPDATE task_status_counts SET n = n + 1000 WHERE lifecycle_status = 'Paused'`)
    assert.equal((await store.countByStatus()).Paused, fromScan.Paused! + 1000)
    assert.equal(await store.count({ lifecycleStatus: ['Paused', 'Paused'] }), fromScan.Paused! + 1000)
    assert.equal((await store.list({ lifecycleStatus: 'Paused', limit: 1 })).total, fromScan.Paused! + 1000)
    assert.equal((await store.list({ limit: 1 })).total, rows + 1000)
    // Any other condition counts the matching rows through an index.
    assert.equal(await store.count({ lifecycleStatus: 'Paused', className: 'A' }), (raw.prepare(`SELECT COUNT(*) AS n FROM tasks WHERE lifecycle_status = 'Paused' AND class_name = 'A'`).get() as { n: number }).n)
    assert.equal((await store.countByStatus({ mode: 'Passive' })).Paused, fromScan.Paused)
    raw.exec(`UPDATE task_status_counts SET n = n - 1000 WHERE lifecycle_status = 'Paused'`)

    raw.exec('DELETE FROM tasks')
    assert.deepEqual(countsTable(raw), {}, 'a delete of every row goes row by row through the trigger')
    assert.equal(await store.count(), 0)
    raw.close()
    await store.close()
  } finally {
    dispose()
  }
})

void test('sqlite: a version-2 file is migrated in place: the counts backfilled from its rows, the list indexes replacing the old ones, a timeline from then on', async () => {
  const { path, dispose } = tempPath()
  try {
    mkdirSync(dirname(path), { recursive: true })
    const v2 = new DatabaseSync(path)
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 2)) v2.exec(m.sql)
    v2.exec('PRAGMA user_version = 2')
    const insert = v2.prepare(`INSERT INTO tasks VALUES (?, ?, 'YAML', NULL, NULL, NULL, NULL, 'Passive', 1, ?, ?, 0, ?, 0, NULL, NULL)`)
    const statuses: TaskLifecycleStatus[] = ['Created', 'Running', 'Running', 'Finished', 'Finished', 'Finished', 'Failed']
    statuses.forEach((s, i) => insert.run(`old${i}`, i % 2 ? 'A' : 'B', T0 + i, T0 + i, s))
    v2.close()

    const store = SqliteTaskStore.open({ path })
    assert.deepEqual(await store.countByStatus(), { Created: 1, Assigning: 0, Running: 2, Paused: 0, Finished: 3, Failed: 1, Cancelled: 0 })
    await store.update('old0', { lifecycleStatus: 'Assigning' })
    await store.delete('old6')
    await store.create({ id: 'new', className: 'A', source: 's' })
    assert.deepEqual(await store.countByStatus(), { Created: 1, Assigning: 1, Running: 2, Paused: 0, Finished: 3, Failed: 0, Cancelled: 0 })
    assert.deepEqual((await store.list({ lifecycleStatus: ['Running', 'Assigning'] })).items.map((t) => t.id), ['old2', 'old1', 'old0'])
    assert.deepEqual((await store.timeline('old0')).map((e) => e.lifecycleStatus), ['Assigning'], 'changes before the migration are not invented')
    assert.deepEqual((await store.timeline('new')).map((e) => e.lifecycleStatus), ['Created'])
    await store.close()

    const raw = new DatabaseSync(path)
    assert.equal((raw.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SQLITE_SCHEMA_VERSION)
    assert.deepEqual(countsTable(raw), scannedCounts(raw))
    const indexes = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name)
    assert.deepEqual(indexes.sort(), [...LIST_INDEXES].sort())
    raw.close()
  } finally {
    dispose()
  }
})
