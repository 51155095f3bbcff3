// Quorum (Redlock-style) locks over several independent Redis masters: a lock is held when a majority took it
// within its validity time; release and extend go to every master. Fencing tokens stay monotonic across
// majorities because the winner raises the counter on every master it holds to the largest token it saw:
// any later majority shares at least one of those masters, whose INCR is then larger.
import { z } from 'zod'
import type { Duration } from '../../config/duration.ts'
import { duration, optionsObject, parseOptions, renamed, show } from '../../config/options.ts'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import type { AcquireAttempt, LockStore } from './lock-store.ts'
import { RedisLockStore } from './redis-lock-store.ts'

export interface QuorumLockStoreOptions {
  /** Prefix of lock keys on every master, after each connection's own `keyPrefix`. Default `lock:`. */
  keyPrefix?: string
  /** Clock drift allowance as a fraction of the TTL, subtracted from the validity time. Default `0.01`. */
  driftFactor?: number
  /** Fixed clock drift allowance, added to the above. Default `'2ms'`. */
  drift?: Duration
  /** @deprecated use `drift` (same value, in ms). */
  driftMs?: number
  /** Time a lock command may take on one master, reply included. Default each connection's `commandTimeout`. */
  timeout?: Duration
}

const quorumSchema = optionsObject({
  keyPrefix: z.string().optional(),
  driftFactor: z.custom<number>((v) => typeof v === 'number' && v >= 0 && v < 1, { error: (issue) => `must be in [0, 1), got ${show(issue.input)}` }).optional(),
  drift: duration().optional(),
  driftMs: duration().optional(),
  timeout: duration({ positive: true }).optional(),
}).superRefine((o, ctx) => renamed(o, ctx, 'drift', 'driftMs'))

export interface ResolvedQuorumLockStoreOptions {
  keyPrefix: string
  driftFactor: number
  driftMs: number
  timeoutMs: number | undefined
}

/** Validates quorum store options and fills the defaults; bad input throws InvalidArgumentError (`quorum lock: field: reason`). */
export function resolveQuorumLockStoreOptions(options: QuorumLockStoreOptions | undefined): ResolvedQuorumLockStoreOptions {
  const o = parseOptions(quorumSchema, options ?? {}, (message) => new InvalidArgumentError(message), 'quorum lock')
  return { keyPrefix: o.keyPrefix ?? 'lock:', driftFactor: o.driftFactor ?? 0.01, driftMs: o.drift ?? o.driftMs ?? 2, timeoutMs: o.timeout }
}

export class QuorumLockStore implements LockStore {
  readonly kind = 'quorum' as const
  readonly quorum: number
  #stores: RedisLockStore[]
  #prefix: string
  #driftFactor: number
  #driftMs: number

  constructor(connections: RedisConnection[], options: QuorumLockStoreOptions = {}) {
    if (!Array.isArray(connections) || connections.length < 3 || connections.length % 2 === 0) {
      throw new InvalidArgumentError(`quorum lock connections: need an odd number (>= 3) of independent masters, got ${connections?.length}`)
    }
    if (connections.some((c) => c.isCluster)) {
      throw new InvalidArgumentError('quorum lock connections: each must be a single independent master, not a cluster')
    }
    const o = resolveQuorumLockStoreOptions(options)
    this.#prefix = o.keyPrefix
    this.#stores = connections.map((c) => new RedisLockStore(c, { keyPrefix: this.#prefix, timeout: o.timeoutMs }))
    this.quorum = Math.floor(connections.length / 2) + 1
    this.#driftFactor = o.driftFactor
    this.#driftMs = o.driftMs
  }

  #validity(ttlMs: number, started: number): number {
    return ttlMs - (performance.now() - started) - (ttlMs * this.#driftFactor + this.#driftMs)
  }

  async tryAcquire(key: string, owner: string, ttlMs: number): Promise<AcquireAttempt> {
    const started = performance.now()
    const attempts = await Promise.allSettled(this.#stores.map((s) => s.tryAcquire(key, owner, ttlMs)))
    const won: number[] = []
    let fence = 0
    let holderTtlMs = -1
    const errors: unknown[] = []
    attempts.forEach((a, i) => {
      if (a.status === 'rejected') errors.push(a.reason)
      else if (a.value.acquired) {
        won.push(i)
        fence = Math.max(fence, a.value.fencingToken)
      } else if (a.value.holderTtlMs >= 0) holderTtlMs = Math.max(holderTtlMs, a.value.holderTtlMs)
    })
    if (won.length >= this.quorum) {
      // Keep every master we hold in step with the largest token before anyone else can get a majority.
      const raised = await Promise.allSettled(won.map((i) => this.#stores[i]!.raiseFence(key, fence)))
      const validityMs = this.#validity(ttlMs, started)
      if (validityMs > 0 && raised.every((r) => r.status === 'fulfilled')) return { acquired: true, fencingToken: fence, validityMs }
    }
    // No majority in time: give back what we took so the next attempt (ours or another's) can win.
    await Promise.allSettled(this.#stores.map((s) => s.release(key, owner)))
    if (errors.length > this.#stores.length - this.quorum) {
      throw new AggregateError(errors, `quorum lock ${key}: ${errors.length} of ${this.#stores.length} masters failed; a majority is out of reach`)
    }
    return { acquired: false, holderTtlMs }
  }

  async release(key: string, owner: string): Promise<boolean> {
    const results = await Promise.allSettled(this.#stores.map((s) => s.release(key, owner)))
    return results.filter((r) => r.status === 'fulfilled' && r.value).length >= this.quorum
  }

  async extend(key: string, owner: string, ttlMs: number): Promise<number> {
    const started = performance.now()
    const results = await Promise.allSettled(this.#stores.map((s) => s.extend(key, owner, ttlMs)))
    const ok = results.filter((r) => r.status === 'fulfilled' && r.value > 0).length
    if (ok < this.quorum) {
      const failed = results.filter((r) => r.status === 'rejected').length
      if (failed > this.#stores.length - this.quorum) {
        throw new AggregateError(
          results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
          `quorum lock ${key}: extend failed on ${failed} of ${this.#stores.length} masters`,
        )
      }
      return 0
    }
    return Math.max(0, this.#validity(ttlMs, started))
  }

  async ownerOf(key: string): Promise<string | undefined> {
    const owners = await Promise.allSettled(this.#stores.map((s) => s.ownerOf(key)))
    const counts = new Map<string, number>()
    for (const o of owners) if (o.status === 'fulfilled' && o.value !== undefined) counts.set(o.value, (counts.get(o.value) ?? 0) + 1)
    for (const [owner, count] of counts) if (count >= this.quorum) return owner
    return undefined
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

export function createQuorumLockStore(connections: RedisConnection[], options?: QuorumLockStoreOptions): QuorumLockStore {
  return new QuorumLockStore(connections, options)
}
