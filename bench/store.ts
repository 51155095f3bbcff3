// Disk Storage benchmark: insert / get / list on SQLite (node:sqlite, a temp file) and MongoDB (MONGO_URL).
// `npm run bench -- store`, or alone: `npx node bench/store.ts` (writes bench/results/store.json either way).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { MongoClient } from 'mongodb'
import { type BenchResult, measure, noteError, report } from './lib.ts'
import { LIFECYCLE_STATUSES } from '../src/model/index.ts'
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
  const sqlite = SqliteTaskStore.open({ path: join(dir, 'tasks.db') })
  try {
    results.push(...(await scenarios('sqlite', sqlite)))
  } finally {
    await sqlite.close()
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
    const client = await MongoClient.connect(url)
    await client.db(dbName).dropDatabase()
    await client.close()
  }
  return results
}

if (import.meta.main) report('store', await run())
