// Group commit for the SQLite store. A commit in WAL mode writes every page the transaction touched (the row, each
// index it is in, the per-status counts, the timeline) to the log: measured on the tasks table, a status write costs
// 64 µs alone in its transaction and 10 µs with 15 others. The store's writes therefore queue here and run together
// in a microtask: one BEGIN IMMEDIATE … COMMIT for all the writes asked for until then (a dispatcher's claims, the
// creates resumed by one commit), each in its own savepoint, so one write's failure (a lost compare-and-set, a
// duplicate id) undoes that write alone and rejects its caller alone. Results and errors are each write's own, and a
// write is answered only once committed.
//
// Order: writes run in the order they were asked for. Reads run at once and see what is committed: a write's effect
// is visible to every read asked for after the write was answered (a read that overlaps a write may see either
// state, as with any store). Reads do not join the queue: there they would hold the file's write lock, which the
// other processes' writers wait for (a node's reads of assigned tasks, measured: 1.3 operations per transaction).
import type { DatabaseSync } from 'node:sqlite'
import { withBusyRetry } from './sqlite-busy.ts'

/** Most operations in one transaction: bounds how long one commit holds the file's write lock. */
const MAX_BATCH = 256

interface Queued {
  work: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

export class SqliteWriteBatch {
  readonly #db: () => DatabaseSync
  readonly #busyTimeoutMs: number
  #queue: Queued[] = []
  /** a flush is scheduled or running: new operations wait for it */
  #flushing = false
  #idle: PromiseWithResolvers<void> | undefined

  constructor(db: () => DatabaseSync, busyTimeoutMs: number) {
    this.#db = db
    this.#busyTimeoutMs = busyTimeoutMs
  }

  /** Runs synchronous write work (no transaction statements of its own) in the next group commit. */
  write<T>(work: () => T): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
    if (!this.#flushing) {
      this.#flushing = true
      // A microtask, not the next turn of the loop: a burst asked for in one synchronous run (a page's claims, the
      // creates resumed by one commit) is still gathered, and a lone writer does not wait (setImmediate cost a
      // sequential write 20–40 µs more, for no larger batches).
      queueMicrotask(() => void this.#flush())
    }
    return promise
  }

  /** Runs read work now (a busy file is retried, sqlite-busy.ts). */
  read<T>(work: () => T): Promise<T> {
    return withBusyRetry(work, this.#busyTimeoutMs)
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH)
      let outcomes: Outcome[]
      try {
        // BEGIN IMMEDIATE is the first statement: a busy file fails it before anything ran, and the batch is retried.
        outcomes = await withBusyRetry(() => this.#transaction(batch), this.#busyTimeoutMs)
      } catch (error) {
        for (const q of batch) q.reject(error)
        continue
      }
      outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)))
    }
    this.#flushing = false
    this.#idle?.resolve()
    this.#idle = undefined
  }

  /** Nothing waits or runs. */
  get idle(): boolean {
    return !this.#flushing
  }

  /** Resolves once every operation asked for so far is answered. */
  settled(): Promise<void> {
    if (!this.#flushing) return Promise.resolve()
    this.#idle ??= Promise.withResolvers<void>()
    return this.#idle.promise
  }

  #transaction(batch: readonly Queued[]): Outcome[] {
    const db = this.#db()
    db.exec('BEGIN IMMEDIATE')
    try {
      // A lone write needs no savepoint: when it fails, the whole transaction is rolled back instead.
      const outcomes = batch.length === 1 ? [attempt(batch[0]!)] : batch.map((q) => this.#inSavepoint(db, q))
      db.exec(outcomes.length === 1 && !outcomes[0]!.ok ? 'ROLLBACK' : 'COMMIT')
      return outcomes
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw error
    }
  }

  #inSavepoint(db: DatabaseSync, q: Queued): Outcome {
    db.exec('SAVEPOINT op')
    const outcome = attempt(q)
    if (!outcome.ok) db.exec('ROLLBACK TO op')
    db.exec('RELEASE op')
    return outcome
  }
}

function attempt(q: Queued): Outcome {
  try {
    return { ok: true, value: q.work() }
  } catch (error) {
    return { ok: false, error }
  }
}
