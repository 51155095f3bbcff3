// Stampede protection for getOrSet. In one process, concurrent misses of a key share one load (the flight map in
// the service). Across processes (opt-in), the load takes a Redis lock `<prefix><ns>:__lock:<key>`; the others
// wait for the holder's value, woken by a message on `<prefix>__skalds:filled` or by polling L2 with backoff,
// and after `wait` run the factory themselves rather than fail.
import { randomUUID } from 'node:crypto'
import type { Logger } from '../../config/logger.ts'
import type { CacheBackend } from '../backend.ts'

/** Wakes waiters of a key when the lock holder (in any process) has stored its value. */
export class FillNotifier {
  readonly channel: string
  readonly #backend: CacheBackend
  readonly #logger: Logger
  readonly #waiters = new Map<string, Set<() => void>>()
  #subscribed: Promise<void> | undefined
  #unsubscribe: (() => Promise<void>) | undefined
  #closed = false

  constructor(backend: CacheBackend, globalPrefix: string, logger: Logger) {
    this.#backend = backend
    this.channel = `${globalPrefix}__skalds:filled`
    this.#logger = logger
  }

  /** Subscribes once, lazily. When it fails, waiters still find the value by polling. */
  ready(): Promise<void> {
    this.#subscribed ??= this.#backend.subscribe(this.channel, (key) => this.#wake(key)).then(
      (unsubscribe) => {
        if (this.#closed) void unsubscribe().catch(() => {})
        else this.#unsubscribe = unsubscribe
      },
      (error: unknown) => {
        this.#subscribed = undefined
        this.#logger.debug({ err: error, channel: this.channel }, 'fill notifications unavailable; waiters poll')
      },
    )
    return this.#subscribed
  }

  /** Resolves when `key` is announced as filled, or after `ms`. */
  wait(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(key)
      if (waiters === undefined) this.#waiters.set(key, (waiters = new Set()))
      const done = (): void => {
        clearTimeout(timer)
        const set = this.#waiters.get(key)
        if (set !== undefined) {
          set.delete(done)
          if (set.size === 0) this.#waiters.delete(key)
        }
        resolve()
      }
      const timer = setTimeout(done, ms)
      waiters.add(done)
    })
  }

  announce(key: string): void {
    void this.#backend.publish(this.channel, key).catch((error: unknown) => {
      this.#logger.debug({ err: error, channel: this.channel }, 'fill announcement failed; waiters poll')
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake()
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    if (unsubscribe !== undefined) await unsubscribe().catch(() => {})
  }

  #wake(key: string): void {
    const waiters = this.#waiters.get(key)
    if (waiters !== undefined) for (const wake of [...waiters]) wake()
  }
}

export interface LockedLoad<R> {
  backend: CacheBackend
  notifier: FillNotifier
  lockKey: string
  /** the full data key: the notification topic */
  key: string
  lockTtlMs: number
  waitMs: number
  /** reads L2; a defined result ends the wait */
  read: () => Promise<R | undefined>
  /** runs the factory and stores its value (announcing the fill when `announce` is true) */
  compute: (announce: boolean) => Promise<R>
  /** the lock could not be taken or released because the store failed */
  onStoreError: (error: unknown) => void
}

const FIRST_POLL_MS = 20
const MAX_POLL_MS = 250

/**
 * Loads a value under the distributed lock. The holder reads L2 again after taking the lock (another process
 * may have filled it between our miss and our lock), then computes. Waiters poll with backoff and retry the lock
 * when it is released without a value (the holder failed). After `waitMs` a waiter computes without the lock.
 */
export async function loadWithLock<R>(load: LockedLoad<R>): Promise<R> {
  const token = randomUUID()
  const deadline = Date.now() + load.waitMs
  await load.notifier.ready()
  let pollMs = FIRST_POLL_MS
  for (;;) {
    let acquired: boolean
    try {
      acquired = await load.backend.setIfAbsent(load.lockKey, token, load.lockTtlMs)
    } catch (error) {
      load.onStoreError(error)
      return load.compute(false)
    }
    if (acquired) {
      try {
        const filled = await load.read()
        if (filled !== undefined) return filled
        return await load.compute(true)
      } finally {
        await load.backend.deleteIfEquals(load.lockKey, token).catch((error: unknown) => load.onStoreError(error))
      }
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) return load.compute(false)
    await load.notifier.wait(load.key, Math.min(pollMs, remaining))
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS)
    const filled = await load.read()
    if (filled !== undefined) return filled
  }
}
