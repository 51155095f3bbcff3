// Locks in this process's memory: the embedded default, and the reference the Redis stores are tested against.
import type { AcquireAttempt, LockStore } from './lock-store.ts'

export interface MemoryLockStoreOptions {
  /** Clock in ms, injectable for tests. Default `Date.now`. */
  now?: () => number
}

interface Held {
  owner: string
  expiresAt: number
}

/** An in-process lock store; fencing tokens are monotonic per key for the life of the store. */
export class MemoryLockStore implements LockStore {
  readonly kind = 'memory' as const
  #now: () => number
  #held = new Map<string, Held>()
  #fences = new Map<string, number>()

  constructor(options: MemoryLockStoreOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  #live(key: string): Held | undefined {
    const held = this.#held.get(key)
    if (held && held.expiresAt <= this.#now()) {
      this.#held.delete(key)
      return undefined
    }
    return held
  }

  tryAcquire(key: string, owner: string, ttlMs: number): Promise<AcquireAttempt> {
    const held = this.#live(key)
    if (held) return Promise.resolve({ acquired: false, holderTtlMs: held.expiresAt - this.#now() })
    this.#held.set(key, { owner, expiresAt: this.#now() + ttlMs })
    const fencingToken = (this.#fences.get(key) ?? 0) + 1
    this.#fences.set(key, fencingToken)
    return Promise.resolve({ acquired: true, fencingToken, validityMs: ttlMs })
  }

  release(key: string, owner: string): Promise<boolean> {
    const held = this.#live(key)
    if (!held || held.owner !== owner) return Promise.resolve(false)
    this.#held.delete(key)
    return Promise.resolve(true)
  }

  extend(key: string, owner: string, ttlMs: number): Promise<number> {
    const held = this.#live(key)
    if (!held || held.owner !== owner) return Promise.resolve(0)
    held.expiresAt = this.#now() + ttlMs
    return Promise.resolve(ttlMs)
  }

  ownerOf(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#live(key)?.owner)
  }

  close(): Promise<void> {
    this.#held.clear()
    return Promise.resolve()
  }
}

export function createMemoryLockStore(options?: MemoryLockStoreOptions): MemoryLockStore {
  return new MemoryLockStore(options)
}
