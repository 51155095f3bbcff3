// The seam between the lock API and where locks live: Redis (one server or cluster), a quorum of independent
// Redis masters, or this process's memory. Every implementation runs test/contracts/lock-contract.ts.

import { InvalidArgumentError } from '../../redis/errors.ts'

export type AcquireAttempt =
  | {
      acquired: true
      /** Monotonic per key across every owner and process: INCR of a per-key counter. */
      fencingToken: number
      /** How long the lock is known to be valid, counted from the start of the call (ms). */
      validityMs: number
    }
  | {
      acquired: false
      /** The holder's remaining TTL (ms) where the store knows it, else -1: a hint for when to retry. */
      holderTtlMs: number
    }

export interface LockStore {
  readonly kind: 'memory' | 'redis' | 'quorum'
  /** One attempt: takes the lock for `owner` when free. Never waits. */
  tryAcquire(key: string, owner: string, ttlMs: number): Promise<AcquireAttempt>
  /** Deletes the lock only while `owner` holds it; true when it did. */
  release(key: string, owner: string): Promise<boolean>
  /** Resets the TTL only while `owner` holds it: the validity in ms from the start of the call, 0 when not the owner. */
  extend(key: string, owner: string, ttlMs: number): Promise<number>
  /** The owner token holding the lock now, undefined when free. */
  ownerOf(key: string): Promise<string | undefined>
  /** Releases resources the store opened itself (never a connection it was given). */
  close(): Promise<void>
}

/** Rejects an empty or non-string lock key with a message naming the field. */
export function checkLockKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(`lock key: must be a non-empty string, got ${JSON.stringify(key)}`)
  }
  return key
}
