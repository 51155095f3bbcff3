// The L1 eviction bus: one pub/sub channel per global prefix (`<prefix>__skalds:l1`). A write, delete or
// invalidation in one process publishes what it touched; every other process evicts its L1 copies.
// Messages: {"o": origin, "k": [full keys], "p": [full glob patterns], "t": [full tag keys]}; each instance
// ignores its own origin. Publishes made in one tick are batched into one message.
import type { Logger } from '../../config/logger.ts'
import type { CacheBackend } from '../backend.ts'
import { globToRegExp } from '../../redis/glob.ts'
import type { L1Cache } from './l1.ts'

interface Message {
  o: string
  k?: string[]
  p?: string[]
  t?: string[]
}

export class InvalidationBus {
  readonly channel: string
  readonly #backend: CacheBackend
  readonly #origin: string
  readonly #l1: L1Cache | undefined
  readonly #logger: Logger
  #pending: { k: string[]; p: string[]; t: string[] } | undefined
  #unsubscribe: (() => Promise<void>) | undefined
  #closed = false
  #retry: NodeJS.Timeout | undefined
  /** resolves when the last batch was handed to the backend (for close and tests) */
  #flushing: Promise<void> = Promise.resolve()

  constructor(backend: CacheBackend, globalPrefix: string, origin: string, l1: L1Cache | undefined, logger: Logger) {
    this.#backend = backend
    this.channel = `${globalPrefix}__skalds:l1`
    this.#origin = origin
    this.#l1 = l1
    this.#logger = logger
  }

  /**
   * Subscribes (when this process has an L1 to evict from). Resolves after the first attempt; when it fails (the
   * store is down at startup) it is retried in the background with backoff (1 s doubling to 30 s) until it works,
   * L1 being cleared then; meanwhile L1 entries of this process expire by l1.ttl.
   */
  async start(): Promise<void> {
    if (this.#l1 === undefined) return
    await this.#subscribe(1000, true)
  }

  async #subscribe(retryMs: number, first: boolean): Promise<void> {
    if (this.#closed) return
    try {
      const unsubscribe = await this.#backend.subscribe(this.channel, (message) => this.#receive(message))
      if (this.#closed) {
        await unsubscribe().catch(() => {})
        return
      }
      this.#unsubscribe = unsubscribe
      // Evictions published before we listened were missed: start L1 from empty.
      if (!first) this.#l1?.clear()
    } catch (error) {
      if (first) this.#logger.warn({ err: error, channel: this.channel }, 'L1 eviction bus: subscribe failed; retrying in the background (L1 entries expire by l1.ttl meanwhile)')
      this.#retry = setTimeout(() => void this.#subscribe(Math.min(retryMs * 2, 30_000), false), retryMs)
      this.#retry.unref()
    }
  }

  publishKeys(keys: readonly string[]): void {
    this.#queue().k.push(...keys)
  }

  publishPattern(pattern: string): void {
    this.#queue().p.push(pattern)
  }

  publishTags(tagKeys: readonly string[]): void {
    this.#queue().t.push(...tagKeys)
  }

  /** Waits until queued messages were published (or failed). */
  async flush(): Promise<void> {
    if (this.#pending !== undefined) this.#send()
    await this.#flushing
  }

  async close(): Promise<void> {
    await this.flush()
    this.#closed = true
    clearTimeout(this.#retry)
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    if (unsubscribe !== undefined) await unsubscribe().catch(() => {})
  }

  #queue(): { k: string[]; p: string[]; t: string[] } {
    if (this.#pending === undefined) {
      this.#pending = { k: [], p: [], t: [] }
      setImmediate(() => this.#send())
    }
    return this.#pending
  }

  #send(): void {
    const batch = this.#pending
    this.#pending = undefined
    if (batch === undefined || this.#closed) return
    const message: Message = { o: this.#origin }
    if (batch.k.length > 0) message.k = [...new Set(batch.k)]
    if (batch.p.length > 0) message.p = batch.p
    if (batch.t.length > 0) message.t = [...new Set(batch.t)]
    // Failures are absorbed: during an outage other processes' L1 copies expire by l1.ttl, and each process
    // clears its L1 when the store comes back.
    this.#flushing = this.#backend.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      this.#logger.debug({ err: error, channel: this.channel }, 'L1 eviction bus: publish failed')
    })
  }

  #receive(raw: string): void {
    const l1 = this.#l1
    if (l1 === undefined) return
    let message: Message
    try {
      message = JSON.parse(raw) as Message
    } catch {
      this.#logger.warn({ channel: this.channel }, 'L1 eviction bus: ignored a malformed message')
      return
    }
    if (message.o === this.#origin) return
    if (Array.isArray(message.k)) for (const key of message.k) l1.delete(key)
    if (Array.isArray(message.p)) for (const pattern of message.p) l1.deleteMatching(globToRegExp(pattern))
    if (Array.isArray(message.t)) l1.deleteTags(message.t)
  }
}
