// Per-task write locks for MongoDB-compatible servers whose updates are not atomic per document.
//
// MongoDB applies a filtered findOneAndUpdate atomically, which is all compare-and-set needs. FerretDB 1.x
// does not: it reads, modifies in memory and writes the whole document back, so two racing updates of one
// document can both "match" and the later write silently drops the earlier one (seen on v1.24.2 with the
// SQLite backend). What FerretDB does enforce atomically is a unique key on insert, so TS writers serialise on
// a lock document per task: insert {_id: taskId} to take it, delete it to give it back. A lock left by a dead
// process expires after `ttlMs`.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoServerError, type Collection } from 'mongodb'
import { StoreUnavailableError } from './errors.ts'

export interface WriteLockOptions {
  /** a lock older than this is considered abandoned and taken over, ms; default 10000 */
  ttlMs?: number
  /** how long to wait for a busy lock before failing, ms; default 10000 */
  waitMs?: number
}

interface LockDocument {
  _id: string
  owner: string
  /** epoch ms */
  expiresAt: number
}

export class TaskWriteLocks {
  readonly #locks: Collection<LockDocument>
  readonly #ttlMs: number
  readonly #waitMs: number

  constructor(locks: Collection<LockDocument>, options: WriteLockOptions = {}) {
    this.#locks = locks
    this.#ttlMs = options.ttlMs ?? 10_000
    this.#waitMs = options.waitMs ?? 10_000
  }

  /** Runs `work` while holding the lock of `taskId`. */
  async with<T>(taskId: string, work: () => Promise<T>): Promise<T> {
    const owner = await this.#acquire(taskId)
    try {
      return await work()
    } finally {
      // Given back before the write returns. Tried behind it: a writer that goes on to tell another process (the
      // controller's claim then task.assign, its Cancelled then task.cancel) left that process's write backing off
      // on the lock: the peer bench's inline assign went from 14 to 39 ms at p50, cancel from 23 to 41 ms.
      await this.#locks.deleteOne({ _id: taskId, owner }).catch(() => {})
    }
  }

  async #acquire(taskId: string): Promise<string> {
    const owner = randomUUID()
    const deadline = Date.now() + this.#waitMs
    for (let attempt = 0; ; attempt++) {
      const now = Date.now()
      try {
        await this.#locks.insertOne({ _id: taskId, owner, expiresAt: now + this.#ttlMs })
        return owner
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error
      }
      const held = await this.#locks.findOne({ _id: taskId })
      if (held && Number(held.expiresAt) < now) {
        // Abandoned by a dead writer: remove exactly that lock (by its owner), then compete again.
        await this.#locks.deleteOne({ _id: taskId, owner: held.owner })
        continue
      }
      if (now > deadline) {
        throw new StoreUnavailableError(`mongodb: task ${JSON.stringify(taskId)} stayed locked by another writer for ${this.#waitMs} ms`)
      }
      await sleep(Math.min(50, 1 + attempt) * (0.5 + Math.random()))
    }
  }
}
