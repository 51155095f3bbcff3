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
  /**
   * Locks being given back, by task: a write returns without waiting for its lock's delete (one round trip less
   * before a node's worker starts); this process's next write of the same task waits for it instead.
   */
  readonly #releasing = new Map<string, Promise<void>>()

  constructor(locks: Collection<LockDocument>, options: WriteLockOptions = {}) {
    this.#locks = locks
    this.#ttlMs = options.ttlMs ?? 10_000
    this.#waitMs = options.waitMs ?? 10_000
  }

  /** Runs `work` while holding the lock of `taskId`. */
  async with<T>(taskId: string, work: () => Promise<T>): Promise<T> {
    await this.#releasing.get(taskId)
    const owner = await this.#acquire(taskId)
    try {
      return await work()
    } finally {
      const release: Promise<void> = this.#locks.deleteOne({ _id: taskId, owner }).then(
        () => {},
        () => {},
      )
      this.#releasing.set(taskId, release)
      void release.then(() => {
        if (this.#releasing.get(taskId) === release) this.#releasing.delete(taskId)
      })
    }
  }

  /** Resolves once every lock this process took is given back (a closing store waits for it). */
  async released(): Promise<void> {
    while (this.#releasing.size > 0) await Promise.all(this.#releasing.values())
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
