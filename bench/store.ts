// Disk Storage benchmark: insert / get / list on SQLite (node:sqlite, a temp file) and MongoDB (MONGO_URL), then the
// dashboard's reads on stores seeded with 1,000 and 100,000 tasks (does a read stay flat as the store grows?).
// `npm run bench -- store`, or alone: `npx node bench/store.ts` (writes bench/results/store.json either way).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { MongoClient } from 'mongodb'
import { type BenchResult, measure, noteError, report } from './lib.ts'
import { LIFECYCLE_STATUSES, type TaskLifecycleStatus } from '../src/model/index.ts'
import type { TaskStore } from '../src/store/index.ts'
import { MongoTaskStore } from '../src/store/engines/mongodb.ts'
import { SqliteTaskStore } from '../src/store/engines/sqlite.ts'

/**
 * Sizes per subject: enough samples for a p99, small enough that the suite stays under a minute. The MongoDB
 * sizes are small because the local server is FerretDB 1.x (PostgreSQL backend), which sorts and counts list
 * pages in its own process (≈200 ms per page here): its figures say nothing about a real mongod.
 */
const SIZES = {
  sqlite: { insert: 5000, get: 10_000, list: 2000 },
  mongodb: { insert: 500, get: 300, list: 60 },
} as const
const CONCURRENCY = 4
const CLASS_NAMES = ['VideoWorker', 'ReportWorker', 'SyncWorker', 'MailWorker']

/**
 * The read scenarios: store sizes and timed operations per size. Each size is a fresh store (a new file, a new
 * database). MongoDB runs at 1,000 tasks only: FerretDB 1.x, the local server, uses no secondary index and sorts,
 * filters `$in` and counts in its own process, so at 100,000 tasks a single page takes seconds.
 */
const READ_SIZES: Record<keyof typeof SIZES, { tasks: number; ops: number }[]> = {
  sqlite: [
    { tasks: 1_000, ops: 2000 },
    { tasks: 100_000, ops: 500 },
  ],
  mongodb: [{ tasks: 1_000, ops: 60 }],
}

/** A dashboard-like mix: most tasks finished, some running or failed, a few waiting. Sums to 100. */
const STATUS_MIX: [TaskLifecycleStatus, number][] = [
  ['Finished', 55],
  ['Running', 15],
  ['Failed', 10],
  ['Created', 8],
  ['Paused', 5],
  ['Cancelled', 5],
  ['Assigning', 2],
]
const STATUS_CYCLE: TaskLifecycleStatus[] = STATUS_MIX.flatMap(([status, n]) => Array.from({ length: n }, () => status))
const SEED_BASE = 1_700_000_000_000
/** One task created per second; a task's last update lands up to 10 minutes after its creation. */
const SEED_STEP_MS = 1000

/** Inserts `tasks` tasks through the store (so every index and trigger is paid); returns the newest updateDateTime. */
async function seed(store: TaskStore, tasks: number, prefix: string, concurrency: number): Promise<number> {
  let next = 0
  let newest = 0
  const lane = async (): Promise<void> => {
    while (next < tasks) {
      const n = next++
      // 37 is coprime with 100: the statuses interleave instead of coming in runs.
      const status = STATUS_CYCLE[(n * 37) % STATUS_CYCLE.length]!
      const createDateTime = SEED_BASE + n * SEED_STEP_MS
      const updateDateTime = status === 'Created' ? createDateTime : createDateTime + ((n * 7919) % 600) * 1000
      newest = Math.max(newest, updateDateTime)
      await store.create({
        id: `${prefix}-${n}`,
        className: CLASS_NAMES[n % CLASS_NAMES.length]!,
        source: 'Bench',
        name: `task ${n}`,
        priority: n % 11,
        lifecycleStatus: status,
        executor: status === 'Created' ? null : `node-${n % 8}`,
        createDateTime,
        updateDateTime,
        attachments: { url: `rtsp://camera/${n}`, frames: n },
      })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return newest
}

/** `1k`, `100k`: the suffix of a read scenario's name. */
function sizeLabel(tasks: number): string {
  return tasks >= 1000 ? `${tasks / 1000}k` : String(tasks)
}

/**
 * What a polling dashboard and the controller's change feed read, one call in flight (latency, not throughput):
 * pages of 20 with their total, newest first (the REST default), offsets 0..80.
 */
async function readScenarios(subject: keyof typeof SIZES, store: TaskStore, tasks: number, ops: number): Promise<BenchResult[]> {
  const prefix = `bench-read-${randomUUID().slice(0, 8)}`
  const started = Date.now()
  const newest = await seed(store, tasks, prefix, subject === 'sqlite' ? 1 : 8)
  console.error(`bench store: ${subject} seeded with ${tasks} tasks in ${Date.now() - started} ms`)
  const size = sizeLabel(tasks)
  const options = { ops, concurrency: 1, warmup: Math.min(50, ops) }
  const results: BenchResult[] = []
  const nonEmpty = (page: { total: number }): void => {
    if (page.total === 0) throw new Error('bench: a read matched nothing')
  }
  results.push(
    await measure(
      `list-page-by-status/${size}`,
      subject,
      async (i) => nonEmpty(await store.list({ lifecycleStatus: LIFECYCLE_STATUSES[i % LIFECYCLE_STATUSES.length]!, limit: 20, offset: (i % 5) * 20 })),
      options,
    ),
  )
  results.push(await measure(`list-page-unfiltered/${size}`, subject, async (i) => nonEmpty(await store.list({ limit: 20, offset: (i % 5) * 20 })), options))
  results.push(
    await measure(
      `count-by-status/${size}`,
      subject,
      async () => {
        const counts = await store.countByStatus()
        if (counts.Finished === 0) throw new Error('bench: countByStatus counted nothing')
      },
      options,
    ),
  )
  results.push(
    await measure(
      `list-page-by-class/${size}`,
      subject,
      async (i) => nonEmpty(await store.list({ className: CLASS_NAMES[i % CLASS_NAMES.length]!, limit: 20, offset: (i % 5) * 20 })),
      options,
    ),
  )
  results.push(
    await measure(
      `changes-since/${size}`,
      subject,
      async (i) => {
        // The controller's change feed: what changed in the last 20..200 s of the seeded history, oldest first.
        const updatedFrom = newest - ((i % 10) + 1) * 20 * SEED_STEP_MS
        nonEmpty(await store.list({ updatedFrom, sort: { field: 'updateDateTime', direction: 'asc' }, limit: 1000 }))
      },
      options,
    ),
  )
  results.push(
    await measure(
      `class-names/${size}`,
      subject,
      async () => {
        if ((await store.distinctClassNames()).length === 0) throw new Error('bench: no class names')
      },
      options,
    ),
  )
  return results
}

async function scenarios(subject: keyof typeof SIZES, store: TaskStore): Promise<BenchResult[]> {
  const sizes = SIZES[subject]
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  const warmup = subject === 'sqlite' ? 100 : 20
  let created = 0
  const results: BenchResult[] = []
  results.push(
    await measure(
      'insert',
      subject,
      async () => {
        const n = created++
        await store.create({
          id: `${prefix}-${n}`,
          className: CLASS_NAMES[n % CLASS_NAMES.length]!,
          source: 'Bench',
          name: `task ${n}`,
          priority: n % 11,
          lifecycleStatus: LIFECYCLE_STATUSES[n % LIFECYCLE_STATUSES.length]!,
          attachments: { url: `rtsp://camera/${n}`, frames: n },
        })
      },
      { ops: sizes.insert, concurrency: CONCURRENCY, warmup },
    ),
  )
  results.push(
    await measure(
      'get',
      subject,
      async (i) => {
        const task = await store.get(`${prefix}-${(i * 7919) % created}`)
        if (!task) throw new Error('bench: a task that was inserted is missing')
      },
      { ops: sizes.get, concurrency: CONCURRENCY, warmup },
    ),
  )
  results.push(
    await measure(
      'list',
      subject,
      async (i) => {
        // The REST list: one status and one class, newest first, a page of 20, with the total.
        const page = await store.list({
          lifecycleStatus: LIFECYCLE_STATUSES[i % LIFECYCLE_STATUSES.length]!,
          className: CLASS_NAMES[i % CLASS_NAMES.length]!,
          limit: 20,
          offset: (i % 5) * 20,
        })
        if (page.total === 0) throw new Error('bench: list matched nothing')
      },
      { ops: sizes.list, concurrency: CONCURRENCY, warmup: 10 },
    ),
  )
  return results
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = []
  const dir = mkdtempSync(join(tmpdir(), 'skalds-bench-store-'))
  try {
    const sqlite = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
    try {
      results.push(...(await scenarios('sqlite', sqlite)))
    } finally {
      await sqlite.close()
    }
    for (const { tasks, ops } of READ_SIZES.sqlite) {
      const store = SqliteTaskStore.open({ path: join(dir, `read-${tasks}.db`) })
      try {
        results.push(...(await readScenarios('sqlite', store, tasks, ops)))
      } finally {
        await store.close()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  const url = process.env.MONGO_URL
  if (!url) {
    noteError('mongodb', 'MONGO_URL is not set, so there are no mongodb rows (npm run bench provisions a server)')
    return results
  }
  const dbName = `skalds_bench_${process.pid}_${randomUUID().slice(0, 8)}`
  const mongo = await MongoTaskStore.connect({ url, dbName })
  console.error(`bench store: mongodb subject is ${mongo.server}${mongo.usesWriteLocks ? ' (per-task write locks on)' : ''}`)
  try {
    results.push(...(await scenarios('mongodb', mongo)))
  } finally {
    await mongo.close()
    await dropDatabase(url, dbName)
  }
  for (const { tasks, ops } of READ_SIZES.mongodb) {
    const readDb = `${dbName}_read_${tasks}`
    const store = await MongoTaskStore.connect({ url, dbName: readDb })
    try {
      results.push(...(await readScenarios('mongodb', store, tasks, ops)))
    } finally {
      await store.close()
      await dropDatabase(url, readDb)
    }
  }
  return results
}

async function dropDatabase(url: string, dbName: string): Promise<void> {
  const client = await MongoClient.connect(url)
  try {
    await client.db(dbName).dropDatabase()
  } finally {
    await client.close()
  }
}

if (import.meta.main) report('store', await run())
