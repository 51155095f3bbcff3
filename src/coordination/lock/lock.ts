// The lock API: `LockManager` hands out `DistributedLock` objects over any LockStore (Redis, quorum, memory).
// A held lock carries a fencing token and an AbortSignal that fires (reason: LockLostError) the moment the lock is
// known or presumed lost; release/extend of a lost lock throw LockLostError. Lock loss is never silent.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Duration, toMs } from '../../config/duration.ts'
import { createLogger, type Logger } from '../../config/logger.ts'
import { boolean, duration, durationThat, opaque, optionsObject, parseOptions } from '../../config/options.ts'
import { z } from 'zod'
import type { RedisConnection } from '../../redis/connection.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { LockLostError, LockNotHeldError, LockTimeoutError } from './errors.ts'
import { checkLockKey, type LockStore } from './lock-store.ts'
import { type QuorumLockStoreOptions, QuorumLockStore } from './quorum.ts'
import { LockWatchdog } from './watchdog.ts'

export interface DistributedLockOptions {
  /** Time to live of the lock in the store; it expires by itself if the holder dies. Default `30s`. */
  ttl?: Duration
  /** How long `acquire` waits for a held lock before LockTimeoutError; `0` = one attempt. Default `10s`. */
  waitTimeout?: Duration
  /** Base pause between attempts while waiting, jittered ±50% and never past the holder's remaining TTL. Default `50ms`. */
  retryDelay?: Duration
  /** Extend the lock automatically while held (a watchdog, every `extendInterval`). Default `true`. */
  autoExtend?: boolean
  /** Interval of automatic extension. Default a third of `ttl`. */
  extendInterval?: Duration
}

export interface LockManagerOptions extends DistributedLockOptions {
  /** Where locks live: `createRedisLockStore(conn)`, `createQuorumLockStore([...])` or `createMemoryLockStore()`. */
  store: LockStore
  /** Where lock loss and extension errors are logged. Default the library logger (`skalds:lock`). */
  logger?: Logger
}

/** @internal LockManager resolves them; DistributedLock's constructor is not for users. */
export interface ResolvedLockOptions {
  ttlMs: number
  waitTimeoutMs: number
  retryDelayMs: number
  autoExtend: boolean
  extendIntervalMs: number
}

const invalid = (message: string) => new InvalidArgumentError(message)

const lockShape = {
  // The stores take whole ms (PX).
  ttl: durationThat((ms) => Number.isInteger(ms) && ms >= 1, 'must be a whole number of ms >= 1').optional(),
  waitTimeout: duration().optional(),
  retryDelay: durationThat((ms) => ms >= 1, 'must be >= 1 ms').optional(),
  autoExtend: boolean().optional(),
  extendInterval: duration().optional(),
}
const lockSchema = optionsObject(lockShape)
const managerSchema = optionsObject({
  ...lockShape,
  store: z.custom<LockStore>((v) => typeof (v as LockStore | undefined)?.tryAcquire === 'function', { error: 'required (a LockStore)' }),
  logger: opaque<Logger>().optional(),
})

/**
 * Validates lock options over `base` (the manager's resolved defaults) and fills the rest; bad input throws
 * InvalidArgumentError as `lock field: reason`. @internal
 */
export function resolveLockOptions(options: DistributedLockOptions | LockManagerOptions, base?: ResolvedLockOptions): ResolvedLockOptions {
  const o = parseOptions(base === undefined ? managerSchema : lockSchema, options, invalid, 'lock', 'options', ' ')
  const ttlMs = o.ttl ?? base?.ttlMs ?? 30_000
  const autoExtend = o.autoExtend ?? base?.autoExtend ?? true
  // A new ttl brings its own default interval; otherwise the base's.
  const extendIntervalMs = o.extendInterval ?? (o.ttl !== undefined || base === undefined ? Math.max(1, Math.floor(ttlMs / 3)) : base.extendIntervalMs)
  if (autoExtend && (extendIntervalMs < 1 || extendIntervalMs >= ttlMs)) {
    throw invalid(`lock extendInterval: must be >= 1 ms and shorter than ttl (${ttlMs} ms), got ${extendIntervalMs}`)
  }
  return { ttlMs, waitTimeoutMs: o.waitTimeout ?? base?.waitTimeoutMs ?? 10_000, retryDelayMs: o.retryDelay ?? base?.retryDelayMs ?? 50, autoExtend, extendIntervalMs }
}

// Owner tokens only need to be unique across processes: a random per-process part plus a counter is enough,
// and far cheaper than fresh random bytes per acquisition.
const PROCESS_TOKEN = randomBytes(12).toString('base64url')
let ownerCounter = 0
function nextOwnerToken(): string {
  return `${PROCESS_TOKEN}.${(++ownerCounter).toString(36)}`
}

/** One lock on one key. Reusable: acquire, release, acquire again. Not shared between concurrent tasks. */
export class DistributedLock implements AsyncDisposable {
  readonly key: string
  #store: LockStore
  #options: ResolvedLockOptions
  #logger: Logger
  #owner: string | undefined
  #fencingToken: number | undefined
  // Created on first use of `signal` (or on loss): most holds never look at it, and it is not free.
  #controller: AbortController | undefined
  #watchdog: LockWatchdog | undefined
  #lost: LockLostError | undefined

  constructor(store: LockStore, key: string, options: ResolvedLockOptions, logger: Logger) {
    this.key = checkLockKey(key)
    this.#store = store
    this.#options = options
    this.#logger = logger
  }

  /** The fencing token of the current (or last) hold; undefined before the first acquire. Strictly increasing per key. */
  get fencingToken(): number | undefined {
    return this.#fencingToken
  }

  /** Aborts, with a LockLostError reason, when the current hold is lost. A fresh signal per acquisition. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
  }

  /** True while this object holds the lock as far as it knows (acquired, not released, not lost). */
  get held(): boolean {
    return this.#owner !== undefined && this.#lost === undefined
  }

  /** Waits up to `waitTimeout` for the lock; returns the fencing token, throws LockTimeoutError. */
  async acquire(options: { waitTimeout?: Duration; signal?: AbortSignal } = {}): Promise<number> {
    const waitMs = options.waitTimeout === undefined ? this.#options.waitTimeoutMs : toMs(options.waitTimeout, 'lock waitTimeout')
    const until = performance.now() + waitMs
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted()
      const holderTtlMs = await this.#attempt()
      if (holderTtlMs === undefined) return this.#fencingToken!
      const left = until - performance.now()
      if (left <= 0) {
        throw new LockTimeoutError(this.key, `lock ${this.key}: still held by another owner after waiting ${waitMs} ms (${attempt} attempts)`)
      }
      let pause = this.#options.retryDelayMs * (0.5 + Math.random())
      if (holderTtlMs >= 0) pause = Math.min(pause, holderTtlMs + 1)
      try {
        await sleep(Math.max(1, Math.min(pause, left)), undefined, { signal: options.signal })
      } catch (error) {
        throw options.signal?.aborted ? options.signal.reason : error
      }
    }
  }

  /** One attempt without waiting: true when acquired (see `fencingToken`). */
  async tryAcquire(): Promise<boolean> {
    return (await this.#attempt()) === undefined
  }

  /** undefined when acquired, else the holder's remaining TTL hint. */
  async #attempt(): Promise<number | undefined> {
    if (this.held) {
      throw new InvalidArgumentError(`lock ${this.key}: this object already holds the lock; release it first or use another lock object`)
    }
    const owner = nextOwnerToken()
    const startedAt = performance.now()
    const result = await this.#store.tryAcquire(this.key, owner, this.#options.ttlMs)
    if (!result.acquired) return result.holderTtlMs
    this.#owner = owner
    this.#fencingToken = result.fencingToken
    this.#lost = undefined
    this.#controller = undefined
    this.#startWatchdog(startedAt + result.validityMs)
    return undefined
  }

  #startWatchdog(deadline: number): void {
    const owner = this.#owner!
    const fencingToken = this.#fencingToken!
    this.#watchdog = new LockWatchdog({
      intervalMs: this.#options.autoExtend ? this.#options.extendIntervalMs : 0,
      deadline,
      extend: () => this.#store.extend(this.key, owner, this.#options.ttlMs),
      onLost: (reason) => this.#markLost(owner, fencingToken, reason),
      onExtendError: (error) =>
        this.#logger.warn({ err: error, key: this.key, fencingToken }, `lock ${this.key}: automatic extension failed; retrying until its TTL runs out`),
    })
  }

  #markLost(owner: string, fencingToken: number, reason: string): void {
    if (this.#owner !== owner || this.#lost) return
    this.#lost = new LockLostError(this.key, fencingToken, `lock ${this.key} (fencing token ${fencingToken}) was lost: ${reason}`)
    this.#logger.error({ key: this.key, fencingToken }, this.#lost.message)
    this.#controller ??= new AbortController()
    this.#controller.abort(this.#lost)
  }

  /** Resets the TTL (default: the lock's ttl). Throws LockLostError when the lock is no longer ours. */
  async extend(ttl?: Duration): Promise<void> {
    const owner = this.#requireHeld('extend')
    const ttlMs = ttl === undefined ? this.#options.ttlMs : toMs(ttl, 'lock extend ttl')
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new InvalidArgumentError(`lock extend ttl: must be a whole number of ms >= 1, got ${ttlMs}`)
    const startedAt = performance.now()
    const validity = await this.#store.extend(this.key, owner, ttlMs)
    if (validity <= 0) {
      this.#markLost(owner, this.#fencingToken!, 'an extension found it held by another owner or expired')
      throw this.#lost!
    }
    this.#watchdog?.confirmed(startedAt, validity)
  }

  /**
   * Releases the lock. Throws LockLostError when it had been lost meanwhile (the critical section was not
   * protected all along), even if the store still let this owner delete it.
   */
  async release(): Promise<void> {
    const owner = this.#requireHeld('release', true)
    const lostBefore = this.#lost ?? (this.#watchdog?.withinValidity === false ? true : undefined)
    this.#watchdog?.stop()
    this.#watchdog = undefined
    this.#owner = undefined
    const released = await this.#store.release(this.key, owner)
    if (lostBefore || !released) {
      if (!this.#lost) {
        this.#lost = new LockLostError(
          this.key,
          this.#fencingToken!,
          `lock ${this.key} (fencing token ${this.#fencingToken}) was lost before release: ${released ? 'its TTL had run out' : 'held by another owner or expired'}`,
        )
        this.#logger.error({ key: this.key, fencingToken: this.#fencingToken }, this.#lost.message)
      }
      throw this.#lost
    }
  }

  #requireHeld(action: string, allowLost = false): string {
    if (this.#owner === undefined) throw new LockNotHeldError(this.key, `lock ${this.key}: cannot ${action}, this object does not hold it`)
    if (this.#lost && !allowLost) throw this.#lost
    return this.#owner
  }

  /** Whether anyone holds the lock now (one store round trip). */
  async isLocked(): Promise<boolean> {
    return (await this.#store.ownerOf(this.key)) !== undefined
  }

  /** Whether this object holds the lock according to the store now (one round trip). */
  async isOwned(): Promise<boolean> {
    return this.#owner !== undefined && (await this.#store.ownerOf(this.key)) === this.#owner
  }

  /** `await using lock = await locks.acquire(key)`: releases on scope exit (throws LockLostError if it was lost). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#owner !== undefined) await this.release()
  }
}

const NO_OPTIONS = {}

function isEmpty(options: object): boolean {
  for (const _ in options) return false
  return true
}

/** Hands out locks over one store with shared defaults. */
export class LockManager {
  readonly store: LockStore
  #options: ResolvedLockOptions
  #logger: Logger

  constructor(options: LockManagerOptions) {
    this.#options = resolveLockOptions(options)
    this.store = options.store
    this.#logger = options.logger ?? createLogger('skalds:lock')
  }

  /** A lock object for `key` (not acquired yet), with per-lock overrides of the defaults. */
  lock(key: string, options: DistributedLockOptions = {}): DistributedLock {
    const resolved = isEmpty(options) ? this.#options : resolveLockOptions(options, this.#options)
    return new DistributedLock(this.store, key, resolved, this.#logger)
  }

  /** Acquires `key`, waiting up to `waitTimeout`; throws LockTimeoutError. */
  async acquire(key: string, options: DistributedLockOptions & { signal?: AbortSignal } = {}): Promise<DistributedLock> {
    const { signal, ...lockOptions } = options
    const lock = this.lock(key, lockOptions)
    await lock.acquire(signal ? { signal } : NO_OPTIONS)
    return lock
  }

  /** One attempt: the held lock, or null when someone else holds it. */
  async tryAcquire(key: string, options: DistributedLockOptions = {}): Promise<DistributedLock | null> {
    const lock = this.lock(key, options)
    return (await lock.tryAcquire()) ? lock : null
  }

  /**
   * Runs `fn` while holding `key` and releases after. `fn` gets the lock (its `signal` and `fencingToken`).
   * If the lock was lost while `fn` ran, the call rejects with LockLostError even when `fn` succeeded; if `fn`
   * threw, its error wins (the loss is logged).
   */
  async withLock<T>(key: string, fn: (lock: DistributedLock) => Promise<T> | T, options: DistributedLockOptions & { signal?: AbortSignal } = {}): Promise<T> {
    const lock = await this.acquire(key, options)
    let result: T
    try {
      result = await fn(lock)
    } catch (error) {
      await lock.release().catch(() => {})
      throw error
    }
    await lock.release()
    return result
  }

  /** Whether anyone holds `key` now. */
  async isLocked(key: string): Promise<boolean> {
    return (await this.store.ownerOf(checkLockKey(key))) !== undefined
  }

  async close(): Promise<void> {
    await this.store.close()
  }
}

export function createLockManager(options: LockManagerOptions): LockManager {
  return new LockManager(options)
}

/** A LockManager over a majority of independent Redis masters (Redlock-style). */
export function createQuorumLock(
  connections: RedisConnection[],
  options: DistributedLockOptions & QuorumLockStoreOptions & { logger?: Logger } = {},
): LockManager {
  return new LockManager({ ...options, store: new QuorumLockStore(connections, options) })
}
