// How the SQLite store waits for another process's write lock. node:sqlite is synchronous: with a busy timeout,
// SQLite's own busy handler sleeps inside the call (1, 2, 5, 10 … 100 ms steps), and the whole process's event loop
// sleeps with it. A controller and a node sharing one file meet the lock often (every insert, claim and status
// write takes it for tens of microseconds), so each meeting cost a node at least a millisecond of doing nothing.
// The file is used with no busy timeout instead, and a write that finds the lock taken is retried from here, after
// the event loop has turned: first at once (the holder is usually done by then), then after growing pauses.
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises'
import { StoreUnavailableError } from './errors.ts'

/** SQLITE_BUSY, SQLITE_LOCKED (and their extended codes, which keep the primary code in the low byte) */
export function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6)
}

/** Retries right after the event loop turns this many times before pausing on a timer. */
const QUICK_RETRIES = 16
/** The longest pause between two tries, ms. */
const MAX_PAUSE_MS = 8

/**
 * Runs `work` (synchronous SQLite work that either completes or leaves nothing behind: a busy lock is met before
 * anything is written) and retries it while the file is busy, for up to `timeoutMs`; then StoreUnavailableError.
 * Other errors reject as they are.
 */
export async function withBusyRetry<T>(work: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    try {
      return work()
    } catch (error) {
      if (!isBusy(error)) throw error instanceof Error ? error : new Error(String(error))
      if (Date.now() >= deadline) {
        throw new StoreUnavailableError(`sqlite: the database stayed locked by another writer for ${timeoutMs} ms (${(error as Error).message})`, { cause: error })
      }
    }
    if (attempt < QUICK_RETRIES) await turn()
    else await sleep(Math.min(MAX_PAUSE_MS, 2 ** (attempt - QUICK_RETRIES)))
  }
}
