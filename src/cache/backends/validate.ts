// Input checks shared by every backend, so bad input fails the same way (InvalidArgumentError naming the field)
// whichever store is behind the cache.
import { InvalidArgumentError } from '../../redis/errors.ts'

/** A TTL must be a positive, finite number of milliseconds; `undefined` means "no expiry" where allowed. */
export function checkTtl(ttlMs: number | undefined, key: string, field = 'ttlMs'): void {
  if (ttlMs === undefined) return
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new InvalidArgumentError(`${field} of ${JSON.stringify(key)}: must be a positive number of milliseconds, got ${String(ttlMs)}`)
  }
}

/** Redis takes whole milliseconds: a fractional TTL is rounded up so it never becomes 0 (= delete). */
export function wholeMs(ttlMs: number): number {
  return Math.ceil(ttlMs)
}

/** Counters move by safe integers only (Redis INCRBY takes a 64-bit integer; JS numbers are exact to 2^53). */
export function checkIncrement(by: number, key: string): void {
  if (!Number.isSafeInteger(by)) {
    throw new InvalidArgumentError(`by of ${JSON.stringify(key)}: must be a safe integer, got ${String(by)}`)
  }
}
