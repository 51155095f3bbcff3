// One leader among several System Controllers: a lease on one lock of the coordination toolkit (a LockStore:
// Redis, quorum, or this process's memory), renewed by the toolkit's LockWatchdog, with the lock's fencing token as
// the term's token. The others poll for the lease and take over when it lapses. A leader that cannot confirm a
// renewal demotes itself locally a safety margin before the lease could end in the store, measured on its own
// monotonic clock, so a paused or cut-off leader stops acting before another can be elected. Guarantees and
// measured failure cases: docs/controller.md, "Leadership".
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { z } from 'zod'
import type { Duration } from '../config/duration.ts'
import { createLogger, type Logger } from '../config/logger.ts'
import { durationThat, fn, nonEmptyString, opaque, optionsObject, parseOptions } from '../config/options.ts'
import type { LockStore } from '../coordination/lock/lock-store.ts'
import { LockWatchdog } from '../coordination/lock/watchdog.ts'
import { SkaldsError } from '../model/errors.ts'
import { InvalidArgumentError } from '../redis/errors.ts'

/** Why a term ended. */
export type DemotionReason =
  /** no renewal was confirmed before the local deadline: store unreachable or slow, or this process paused or starved */
  | 'expired'
  /** a renewal found the lease gone or held by another candidate */
  | 'lost'
  /** `stop()` was called; the lease was released */
  | 'stopped'

export interface LeadershipOptions {
  /** Where the lease lives: `createRedisLockStore(conn)` (one deployment), `createQuorumLockStore([...])`, or `createMemoryLockStore()` (embedded, one process). */
  store: LockStore
  /** The lock key every candidate contends on. Default `'skalds:controller:leader'`. */
  name?: string
  /** This candidate's name, reported as `leaderId` by every candidate while it leads. Default `<hostname>:<pid>`. */
  candidateId?: string
  /** Lease length in the store: a dead leader's lease frees itself after it. Whole ms. Default `10s`. */
  lease?: Duration
  /** The leader renews every this long. Default a third of `lease`. Must be shorter than `lease - safetyMargin`. */
  renewEvery?: Duration
  /** The leader stops acting this long before its lease could end in the store. Default a fifth of `lease`. */
  safetyMargin?: Duration
  /** A follower tries to take the lease every this long (jittered ±20%, never later than the holder's TTL runs out). Default `1s`. */
  retryEvery?: Duration
  /** One store call (acquire, renew) not answered within this counts as failed. Default half of `renewEvery`. */
  callTimeout?: Duration
  /** Elections (`info`), demotions (`warn`; `info` for stop), store errors (`warn` once per outage). Default `createLogger('skalds:leadership')`. */
  logger?: Logger
  /** Called when this candidate becomes the leader, with the term's fencing token; `isLeader` is already true. Must not throw. */
  onElected?: (token: number) => void
  /** Called once when a term ends, with why and the term's token; `isLeader` is already false. Must not throw. */
  onDemoted?: (reason: DemotionReason, token: number) => void
}

/** The current term, as `whileLeader` hands it to its function. */
export interface LeaderTerm {
  /** The fencing token: strictly increasing across terms of every candidate (for as long as the store keeps its counter). */
  readonly token: number
  /** Aborts, with a NotLeaderError reason, when the term ends. */
  readonly signal: AbortSignal
}

/** An action that needs the lead was asked for while this candidate does not lead (or no longer leads the same term). */
export class NotLeaderError extends SkaldsError {
  /** The lock key of the leadership (its `name` option). */
  readonly key: string
  constructor(key: string, message: string, options?: ErrorOptions) {
    super('E_NOT_LEADER', message, options)
    this.key = key
  }
}

interface Resolved {
  store: LockStore
  name: string
  candidateId: string
  leaseMs: number
  renewEveryMs: number
  safetyMarginMs: number
  retryEveryMs: number
  callTimeoutMs: number
  logger: Logger
  onElected: ((token: number) => void) | undefined
  onDemoted: ((reason: DemotionReason, token: number) => void) | undefined
}

const positiveMs = (what = 'must be a whole number of ms >= 1') => durationThat((ms) => Number.isInteger(ms) && ms >= 1, what)

const schema = optionsObject({
  store: z.custom<LockStore>((v) => typeof (v as LockStore | undefined)?.tryAcquire === 'function', { error: 'required (a LockStore)' }),
  name: nonEmptyString().optional(),
  candidateId: nonEmptyString().optional(),
  lease: positiveMs().optional(),
  renewEvery: positiveMs().optional(),
  safetyMargin: durationThat((ms) => Number.isInteger(ms) && ms >= 0, 'must be a whole number of ms >= 0').optional(),
  retryEvery: positiveMs().optional(),
  callTimeout: positiveMs().optional(),
  logger: opaque<Logger>().optional(),
  onElected: fn<(token: number) => void>().optional(),
  onDemoted: fn<(reason: DemotionReason, token: number) => void>().optional(),
})

/** Validates the options and fills the defaults; bad input throws InvalidArgumentError as `leadership field: reason`. */
export function resolveLeadershipOptions(options: LeadershipOptions): Resolved {
  const invalid = (message: string) => new InvalidArgumentError(message)
  const o = parseOptions(schema, options, invalid, 'leadership', 'options', ' ')
  const leaseMs = o.lease ?? 10_000
  const safetyMarginMs = o.safetyMargin ?? Math.floor(leaseMs / 5)
  if (safetyMarginMs >= leaseMs) throw invalid(`leadership safetyMargin: must be shorter than lease (${leaseMs} ms), got ${safetyMarginMs}`)
  const renewEveryMs = o.renewEvery ?? Math.max(1, Math.floor(leaseMs / 3))
  if (renewEveryMs >= leaseMs - safetyMarginMs) {
    throw invalid(`leadership renewEvery: must be shorter than lease - safetyMargin (${leaseMs - safetyMarginMs} ms), got ${renewEveryMs}`)
  }
  return {
    store: o.store,
    name: o.name ?? 'skalds:controller:leader',
    candidateId: o.candidateId ?? `${hostname()}:${process.pid}`,
    leaseMs,
    renewEveryMs,
    safetyMarginMs,
    retryEveryMs: o.retryEvery ?? 1000,
    callTimeoutMs: o.callTimeout ?? Math.max(1, Math.floor(renewEveryMs / 2)),
    logger: o.logger ?? createLogger('skalds:leadership'),
    onElected: o.onElected,
    onDemoted: o.onDemoted,
  }
}

interface Term {
  token: number
  owner: string
  watchdog: LockWatchdog
  controller: AbortController
  /** Date.now() past which the term is over too (a guard for clocks that stop while the machine sleeps). */
  wallDeadline: number
  /** set by a renewal that found the lease gone or taken */
  lostByRenewal: boolean
}

const SEPARATOR = '#'

/** The candidate id inside an owner token (`<candidateId>#<random>`), or the token itself when it is not one of ours. */
function candidateOf(owner: string): string {
  const at = owner.lastIndexOf(SEPARATOR)
  return at > 0 ? owner.slice(0, at) : owner
}

class CallTimeoutError extends Error {}

/** Resolves with `promise`, or rejects with CallTimeoutError after `ms` (the call is then counted as failed). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(`${what}: no answer within ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * One candidate for the lead. `start()` begins contending; exactly one candidate per `name` (per store) leads at a
 * time, provided every candidate's monotonic clock runs at the store's rate (see docs/controller.md for what
 * that excludes).
 *
 * Guarantees:
 * - **Self-demotion before the lease can pass.** The term ends locally at `lease - safetyMargin` (ms) after the
 *   *start* of the last store call that confirmed it (acquire or renewal), measured with `performance.now()`. The
 *   store counts the lease from when it received that call, which is later, so nobody else can be elected before
 *   this candidate has stopped acting. A renewal that fails, times out (`callTimeout`) or is never answered does
 *   not move the deadline; a process paused (SIGSTOP), starved or whose store is down passes it.
 * - **`isLeader` is the check to make before every action**: synchronous, no I/O, and it compares the clock to the
 *   deadline itself (a timer may fire late after a pause); a term found over is ended on the spot, `onDemoted`
 *   included, before it returns false.
 * - **Fencing.** `token` is the lock's fencing token for this term: strictly increasing across every term of every
 *   candidate. Pass it into writes that a stale leader must not make (`assertLeader(token)` before each one), and
 *   have the written resource reject a token smaller than one it has seen.
 * - **Hand-over.** `stop()` ends the term and releases the lease: a follower takes over at its next attempt
 *   (`retryEvery`). A leader that died is replaced once its lease has run out (≤ `lease` after its last renewal)
 *   plus one follower attempt.
 */
export class Leadership {
  readonly name: string
  readonly candidateId: string
  readonly #o: Resolved
  #term: Term | undefined
  #running = false
  #timer: NodeJS.Timeout | undefined
  #attempt: Promise<void> | undefined
  #leaderId: string | undefined
  #storeDown = false

  constructor(options: LeadershipOptions) {
    this.#o = resolveLeadershipOptions(options)
    this.name = this.#o.name
    this.candidateId = this.#o.candidateId
  }

  /** The resolved timings, in ms. */
  get timings(): { leaseMs: number; renewEveryMs: number; safetyMarginMs: number; retryEveryMs: number; callTimeoutMs: number } {
    const { leaseMs, renewEveryMs, safetyMarginMs, retryEveryMs, callTimeoutMs } = this.#o
    return { leaseMs, renewEveryMs, safetyMarginMs, retryEveryMs, callTimeoutMs }
  }

  /**
   * True while this candidate leads and its local deadline has not passed. Synchronous and cheap (two clock reads):
   * ask it before every action. When the deadline has passed, the term ends here (`onDemoted('expired')` runs first).
   */
  get isLeader(): boolean {
    const term = this.#term
    if (term === undefined) return false
    if (term.watchdog.withinValidity && Date.now() < term.wallDeadline) return true
    this.#demote(term, 'expired', 'its local deadline passed before a renewal was confirmed (store unreachable or slow, or this process was paused)')
    return false
  }

  /** The fencing token of the current term, undefined when not leading (checked as `isLeader` is). */
  get token(): number | undefined {
    return this.isLeader ? this.#term!.token : undefined
  }

  /** Aborts when the current term ends; undefined when not leading. */
  get signal(): AbortSignal | undefined {
    return this.isLeader ? this.#term!.controller.signal : undefined
  }

  /**
   * Who leads, best effort for a status endpoint: this candidate's id while it leads; for a follower, the holder
   * its last attempt saw (refreshed every `retryEvery`); undefined when nobody held the lease then or the store was
   * unreachable. Never use it to decide whether to act.
   */
  get leaderId(): string | undefined {
    return this.isLeader ? this.candidateId : this.#leaderId
  }

  /** Throws NotLeaderError unless this candidate leads (in the term of `token`, when given); returns the token. */
  assertLeader(token?: number): number {
    if (!this.isLeader) throw new NotLeaderError(this.name, `leadership ${this.name}: ${this.candidateId} does not lead`)
    const current = this.#term!.token
    if (token !== undefined && token !== current) {
      throw new NotLeaderError(this.name, `leadership ${this.name}: term ${token} is over (${this.candidateId} now leads term ${current})`)
    }
    return current
  }

  /**
   * Runs `fn` in the current term (NotLeaderError at once when not leading). `fn` gets the term's token and a signal
   * that aborts when the term ends. Rejects with NotLeaderError when the term ended while `fn` ran, even if `fn`
   * succeeded (its writes must then have been fenced by the token); `fn`'s own error wins over that.
   */
  async whileLeader<T>(fn: (term: LeaderTerm) => Promise<T> | T): Promise<T> {
    const token = this.assertLeader()
    const term = this.#term!
    const result = await fn({ token, signal: term.controller.signal })
    if (this.#term !== term || !this.isLeader) {
      throw new NotLeaderError(this.name, `leadership ${this.name}: term ${token} of ${this.candidateId} ended while the action ran`)
    }
    return result
  }

  /** Starts contending. Resolves after the first attempt: `isLeader` then says whether it won. Idempotent. */
  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    await this.#tryAcquire()
  }

  /**
   * Stops contending. A leader ends its term (`onDemoted('stopped')`) and releases the lease (one store call,
   * bounded by `callTimeout`) so a follower can take over at its next attempt. Idempotent; a `start()` made while
   * it runs wins.
   */
  async stop(): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    await this.#attempt
    if (this.#running) return // start() was called meanwhile: the later call wins
    const term = this.#term
    if (term) {
      this.#demote(term, 'stopped', 'stop() was called')
      await this.#release(term.owner)
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return
    clearTimeout(this.#timer)
    // Unref'd, as the watchdog's: a candidate alone does not keep its process alive.
    this.#timer = setTimeout(() => void this.#tryAcquire(), Math.max(1, ms))
    this.#timer.unref()
  }

  #jittered(): number {
    return this.#o.retryEveryMs * (0.8 + Math.random() * 0.4)
  }

  #tryAcquire(): Promise<void> {
    this.#attempt ??= this.#acquireOnce().finally(() => (this.#attempt = undefined))
    return this.#attempt
  }

  async #acquireOnce(): Promise<void> {
    if (!this.#running || this.#term) return
    const o = this.#o
    const owner = `${this.candidateId}${SEPARATOR}${randomBytes(9).toString('base64url')}`
    const startedAt = performance.now()
    const startedWall = Date.now()
    let result
    try {
      result = await withTimeout(o.store.tryAcquire(o.name, owner, o.leaseMs), o.callTimeoutMs, `leadership ${o.name}: acquire`)
    } catch (error) {
      // A timed-out acquire may still have taken the lease: free it rather than leave it idle for a whole lease.
      if (error instanceof CallTimeoutError) void this.#release(owner)
      this.#leaderId = undefined
      this.#storeFailed(error, 'acquire')
      this.#schedule(this.#jittered())
      return
    }
    this.#storeUp()
    if (result.acquired) {
      const deadline = startedAt + result.validityMs - o.safetyMarginMs
      if (!this.#running || performance.now() >= deadline) {
        // Stopped meanwhile, or the answer came too late to act on (a pause): give it back.
        await this.#release(owner)
        this.#schedule(this.#jittered())
        return
      }
      this.#elect(owner, result.fencingToken, deadline, startedWall + result.validityMs - o.safetyMarginMs)
      return
    }
    let next = this.#jittered()
    if (result.holderTtlMs >= 0) next = Math.min(next, result.holderTtlMs + 1)
    this.#schedule(next)
    try {
      const holder = await withTimeout(o.store.ownerOf(o.name), o.callTimeoutMs, `leadership ${o.name}: ownerOf`)
      this.#leaderId = holder === undefined ? undefined : candidateOf(holder)
    } catch {
      this.#leaderId = undefined
    }
  }

  #elect(owner: string, token: number, deadline: number, wallDeadline: number): void {
    const o = this.#o
    const term: Term = {
      token,
      owner,
      controller: new AbortController(),
      wallDeadline,
      lostByRenewal: false,
      watchdog: undefined as unknown as LockWatchdog,
    }
    term.watchdog = new LockWatchdog({
      intervalMs: o.renewEveryMs,
      deadline,
      extend: () => this.#renew(term),
      onLost: () =>
        this.#demote(
          term,
          term.lostByRenewal ? 'lost' : 'expired',
          term.lostByRenewal ? 'a renewal found the lease gone or held by another candidate' : 'no renewal was confirmed before its local deadline',
        ),
      onExtendError: (error) => o.logger.warn({ err: error, name: o.name, token }, `leadership ${o.name}: renewal failed; retrying until the local deadline`),
    })
    this.#term = term
    this.#leaderId = this.candidateId
    o.logger.info({ name: o.name, candidateId: this.candidateId, token }, `leadership ${o.name}: ${this.candidateId} elected (token ${token})`)
    try {
      o.onElected?.(token)
    } catch (error) {
      o.logger.error({ err: error }, `leadership ${o.name}: onElected threw`)
    }
  }

  /** One renewal, for the watchdog: the validity it may count on from the call's start (lease - margin), 0 when lost. */
  async #renew(term: Term): Promise<number> {
    const o = this.#o
    const startedWall = Date.now()
    if (startedWall >= term.wallDeadline) {
      // The wall clock says the term is over while the monotonic one does not (a machine that slept): give up.
      term.lostByRenewal = false
      return 0
    }
    const validity = await withTimeout(o.store.extend(o.name, term.owner, o.leaseMs), o.callTimeoutMs, `leadership ${o.name}: renewal`)
    if (validity <= 0) {
      term.lostByRenewal = true
      return 0
    }
    const usable = Math.max(1, validity - o.safetyMarginMs)
    term.wallDeadline = Math.max(term.wallDeadline, startedWall + usable)
    return usable
  }

  #demote(term: Term, reason: DemotionReason, why: string): void {
    if (this.#term !== term) return
    const o = this.#o
    this.#term = undefined
    this.#leaderId = undefined
    term.watchdog.stop()
    const message = `leadership ${o.name}: ${this.candidateId} demoted (token ${term.token}, ${reason}): ${why}`
    term.controller.abort(new NotLeaderError(o.name, message))
    if (reason === 'stopped') o.logger.info({ name: o.name, token: term.token, reason }, message)
    else o.logger.warn({ name: o.name, token: term.token, reason }, message)
    try {
      o.onDemoted?.(reason, term.token)
    } catch (error) {
      o.logger.error({ err: error }, `leadership ${o.name}: onDemoted threw`)
    }
    if (reason === 'expired') {
      // The store may still hold the lease for us (a renewal answered too late): free it for the others at once.
      void this.#release(term.owner)
    }
    if (reason !== 'stopped') this.#schedule(this.#jittered())
  }

  /** Owner-checked release, bounded by callTimeout; failures are logged at debug (the lease then runs out by itself). */
  async #release(owner: string): Promise<void> {
    const o = this.#o
    try {
      await withTimeout(o.store.release(o.name, owner), o.callTimeoutMs, `leadership ${o.name}: release`)
    } catch (error) {
      o.logger.debug({ err: error, name: o.name }, `leadership ${o.name}: release failed; the lease runs out by itself`)
    }
  }

  #storeFailed(error: unknown, what: string): void {
    const o = this.#o
    if (this.#storeDown) return o.logger.debug({ err: error, name: o.name }, `leadership ${o.name}: ${what} failed`)
    this.#storeDown = true
    o.logger.warn({ err: error, name: o.name }, `leadership ${o.name}: ${what} failed; retrying every ${o.retryEveryMs} ms`)
  }

  #storeUp(): void {
    if (!this.#storeDown) return
    this.#storeDown = false
    this.#o.logger.info({ name: this.#o.name }, `leadership ${this.#o.name}: the lock store answers again`)
  }
}

/** A candidate for the lead; see Leadership. Call `start()` to contend. */
export function createLeadership(options: LeadershipOptions): Leadership {
  return new Leadership(options)
}
