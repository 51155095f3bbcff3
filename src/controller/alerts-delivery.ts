// One webhook's sender: a bounded queue of alerts (the oldest dropped when full), a token bucket, and one request at
// a time, retried with exponential backoff. Everything it does runs off the caller's stack: enqueue() only pushes
// and, when the sender was idle, schedules its loop for a later turn of the event loop.
import { createHash, createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../config/logger.ts'
import type { AlertKind, AlertsFetch, ResolvedRetry, ResolvedWebhook } from './alerts-options.ts'

/** The payload format version, in the user-agent (`skalds-alerts/1`). */
export const ALERT_FORMAT_VERSION = 1
export const USER_AGENT = `skalds-alerts/${ALERT_FORMAT_VERSION} (node/${process.versions.node})`

/** One alert as queued: its id and kind, and its payload already serialized (once, for every webhook). */
export interface QueuedAlert {
  readonly id: string
  readonly kind: AlertKind
  readonly at: number
  readonly json: string
}

export interface WebhookStats {
  /** the webhook's `name` (its URL's origin unless named) */
  name: string
  /** alerts waiting, plus those in the request being attempted */
  pending: number
  /** alerts in a request the receiver answered with 2xx */
  delivered: number
  /** HTTP requests made (first attempts and retries) */
  requests: number
  /** requests that were retries */
  retries: number
  /** alerts that went out inside a `batch` request because the rate limit held them back */
  coalesced: number
  /** alerts dropped, oldest first, because the queue was full */
  dropped: number
  /** alerts in a request refused with a status that is not retried (3xx, 4xx but 408 / 429) */
  rejected: number
  /** alerts in a request that failed `retry.maxAttempts` times */
  failed: number
  /** alerts still pending at close() (or emitted after it) */
  discarded: number
}

/** An array used as a FIFO with O(1) shift (a head index, compacted now and then). */
class Fifo<T> {
  #items: T[] = []
  #head = 0
  get length(): number {
    return this.#items.length - this.#head
  }
  push(item: T): void {
    this.#items.push(item)
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head++]
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }
  /** Removes and returns up to `n` items from the head. */
  take(n: number): T[] {
    const out = this.#items.slice(this.#head, this.#head + n)
    this.#head += out.length
    if (this.#head >= this.#items.length) this.clear()
    return out
  }
  clear(): void {
    this.#items = []
    this.#head = 0
  }
}

/** Requests allowed: `burst` back to back, then `perMinute` in the long run (monotonic clock). */
export class TokenBucket {
  readonly #perMs: number
  readonly #burst: number
  #tokens: number
  #last = performance.now()
  constructor(perMinute: number, burst: number) {
    this.#perMs = perMinute / 60_000
    this.#burst = burst
    this.#tokens = burst
  }
  #refill(): void {
    const now = performance.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs)
    this.#last = now
  }
  /** ms until a token is there (0: now). */
  waitMs(): number {
    this.#refill()
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs)
  }
  take(): void {
    this.#refill()
    this.#tokens -= 1
  }
}

/** What one request carries, fixed at its first attempt so every retry sends the same bytes (and the same id). */
interface Delivery {
  readonly id: string
  readonly kind: AlertKind | 'batch'
  readonly count: number
  readonly body: string
  readonly headers: Record<string, string>
  attempts: number
}

export interface SenderContext {
  readonly retry: ResolvedRetry
  readonly queueMax: number
  readonly source: string | undefined
  readonly fetch: AlertsFetch
  readonly logger: Logger
}

/** Statuses retried; the others (3xx, the remaining 4xx) are refused for good. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

/** Retry-After (seconds, or an HTTP date) in ms from now; undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The first `max` bytes of a response body as text (control characters flattened), the rest discarded. */
async function readHead(response: Response, max: number): Promise<string> {
  const body = response.body
  if (body === null) return ''
  const reader = (body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < max) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } catch {
    // a body cut short: keep what came
  } finally {
    reader.cancel().catch(() => {})
  }
  const text = Buffer.concat(chunks).subarray(0, max).toString('utf8')
  return text.replace(/\p{Cc}+/gu, ' ').trim()
}

export class WebhookSender {
  readonly #hook: ResolvedWebhook
  readonly #ctx: SenderContext
  readonly #bucket: TokenBucket
  readonly #queue = new Fifo<QueuedAlert>()
  readonly #abort = new AbortController()
  readonly #stats: WebhookStats
  #current: Delivery | undefined
  /** the attempt in flight, aborted by close() */
  #attemptAbort: AbortController | undefined
  #running = false
  #loop: Promise<void> = Promise.resolve()
  #closed = false
  #idleWaiters: (() => void)[] = []
  #dropsUnlogged = 0
  #lastDropLog = -Infinity

  constructor(hook: ResolvedWebhook, ctx: SenderContext) {
    this.#hook = hook
    this.#ctx = ctx
    this.#bucket = new TokenBucket(hook.rateLimit.perMinute, hook.rateLimit.burst)
    this.#stats = { name: hook.name, pending: 0, delivered: 0, requests: 0, retries: 0, coalesced: 0, dropped: 0, rejected: 0, failed: 0, discarded: 0 }
  }

  accepts(kind: AlertKind): boolean {
    return this.#hook.events.has(kind)
  }

  /** Queues an alert (dropping the oldest when full) and wakes the loop; O(1), never awaits, never throws. */
  enqueue(alert: QueuedAlert): void {
    if (this.#closed) {
      this.#stats.discarded++
      return
    }
    if (this.#queue.length >= this.#ctx.queueMax) {
      this.#queue.shift()
      this.#stats.dropped++
      this.#noteDrop()
    }
    this.#queue.push(alert)
    if (!this.#running) {
      this.#running = true
      this.#loop = this.#run()
    }
  }

  stats(): WebhookStats {
    return { ...this.#stats, pending: this.#queue.length + (this.#current?.count ?? 0) }
  }

  /** Resolves once nothing is pending (or at close()). */
  idle(): Promise<void> {
    if (!this.#running && this.#current === undefined && this.#queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Stops at once: the request in flight is aborted, waits are cut short, what is pending is discarded (counted). */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      const pending = this.#queue.length + (this.#current?.count ?? 0)
      this.#stats.discarded += pending
      if (pending > 0) this.#ctx.logger.warn({ webhook: this.#hook.name, discarded: pending }, `alert webhook ${this.#hook.name}: closed with ${pending} alert(s) undelivered`)
      this.#queue.clear()
      this.#current = undefined
      this.#abort.abort(new Error('alerts closed'))
      this.#attemptAbort?.abort(new Error('alerts closed'))
      this.#wakeIdle()
    }
    // A fetch that ignores its signal (an injected one) must not hold close() for long.
    await Promise.race([this.#loop, sleep(1000, undefined, { ref: false })])
  }

  async #run(): Promise<void> {
    try {
      // Off the emitter's stack: building the request and calling fetch happen on a later turn.
      await new Promise<void>((resolve) => setImmediate(resolve))
      while (!this.#closed) {
        if (this.#current === undefined) {
          if (this.#queue.length === 0) break
          let waited = false
          for (let wait = this.#bucket.waitMs(); wait > 0; wait = this.#bucket.waitMs()) {
            waited = true
            if (!(await this.#pause(wait))) return
          }
          this.#bucket.take()
          // Held back by the rate limit: what piled up meanwhile goes out in one request.
          this.#current = this.#delivery(this.#queue.take(waited ? this.#hook.rateLimit.coalesceMax : 1))
        }
        const delivery = this.#current
        let next: number | 'done'
        try {
          next = await this.#attempt(delivery)
        } catch (error) {
          // Not an HTTP outcome but a fault of ours: drop this delivery rather than loop on it.
          this.#stats.failed += delivery.count
          this.#ctx.logger.error({ err: error, webhook: this.#hook.name, id: delivery.id }, `alert webhook ${this.#hook.name}: ${delivery.count} alert(s) dropped on an unexpected error`)
          next = 'done'
        }
        if (this.#closed) return
        if (next === 'done') {
          this.#current = undefined
        } else if (!(await this.#pause(next))) {
          return
        }
      }
    } catch (error) {
      // a fault of ours outside an attempt: log it; the next enqueue() starts the loop again
      this.#ctx.logger.error({ err: error, webhook: this.#hook.name }, `alert webhook ${this.#hook.name}: sender stopped on an unexpected error`)
    } finally {
      this.#running = false
      this.#wakeIdle()
    }
  }

  #wakeIdle(): void {
    if (this.#running && !this.#closed) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  /** Waits `ms` (not holding the process open); false when close() cut it short. */
  async #pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#abort.signal, ref: false })
      return !this.#closed
    } catch {
      return false
    }
  }

  #delivery(alerts: QueuedAlert[]): Delivery {
    const single = alerts.length === 1 ? alerts[0]! : undefined
    let id: string
    let body: string
    if (single !== undefined) {
      id = single.id
      body = single.json
    } else {
      this.#stats.coalesced += alerts.length
      const hash = createHash('sha256')
      for (const alert of alerts) hash.update(alert.id).update('\n')
      id = hash.digest('hex').slice(0, 32)
      const head = JSON.stringify({ kind: 'batch', id, at: Date.now(), ...(this.#ctx.source === undefined ? {} : { source: this.#ctx.source }), count: alerts.length })
      body = `${head.slice(0, -1)},"alerts":[${alerts.map((alert) => alert.json).join(',')}]}`
    }
    const kind = single?.kind ?? 'batch'
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...this.#hook.headers,
      'content-type': 'application/json',
      'x-skalds-alert-id': id,
      'x-skalds-alert-kind': kind,
    }
    if (this.#hook.secret !== undefined) headers['x-skalds-signature'] = `sha256=${createHmac('sha256', this.#hook.secret).update(body).digest('hex')}`
    return { id, kind, count: alerts.length, body, headers, attempts: 0 }
  }

  /** One attempt: 'done' (delivered, refused or given up), or the ms to wait before the next one. */
  async #attempt(delivery: Delivery): Promise<number | 'done'> {
    const { retry, logger } = this.#ctx
    const name = this.#hook.name
    const what = delivery.count === 1 ? `alert ${delivery.kind} ${delivery.id}` : `batch ${delivery.id} of ${delivery.count} alerts`
    delivery.attempts++
    this.#stats.requests++
    if (delivery.attempts > 1) this.#stats.retries++
    // One controller per attempt, aborted by its timer or by close() (not AbortSignal.any over the sender's
    // long-lived signal: each call would link a new signal to it for the life of the process).
    const attempt = new AbortController()
    const timer = setTimeout(() => attempt.abort(new DOMException(`no answer within ${this.#hook.timeoutMs} ms`, 'TimeoutError')), this.#hook.timeoutMs)
    timer.unref()
    this.#attemptAbort = attempt
    const signal = attempt.signal
    let failure: string
    let retryAfterMs: number | undefined
    try {
      // redirect 'manual': a 301/302 would turn the POST into a GET without the body (and send the signature on)
      const response = await this.#ctx.fetch(this.#hook.url, { method: 'POST', headers: delivery.headers, body: delivery.body, signal, redirect: 'manual' })
      const status = response.status
      if (status >= 200 && status < 300) {
        await readHead(response, 64 * 1024)
        if (this.#closed) return 'done'
        this.#stats.delivered += delivery.count
        logger.debug({ webhook: name, id: delivery.id, status, attempt: delivery.attempts }, `alert webhook ${name}: ${what} delivered`)
        return 'done'
      }
      if (!retryable(status)) {
        const head = await readHead(response, 256)
        if (this.#closed) return 'done'
        this.#stats.rejected += delivery.count
        const where = status >= 300 && status < 400 ? ` (redirect to ${response.headers.get('location') ?? '?'} not followed)` : ''
        logger.error({ webhook: name, id: delivery.id, status, body: head }, `alert webhook ${name}: ${what} refused with HTTP ${status}${where}, not retried: ${head === '' ? '(empty body)' : head}`)
        return 'done'
      }
      if (status === 429 || status === 503) retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
      await readHead(response, 1024)
      failure = `HTTP ${status}`
    } catch (error) {
      if (this.#closed) return 'done'
      const err = error as Error
      failure = err.name === 'TimeoutError' ? `no answer within ${this.#hook.timeoutMs} ms` : `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`
    } finally {
      clearTimeout(timer)
      this.#attemptAbort = undefined
    }
    if (this.#closed) return 'done'
    if (delivery.attempts >= retry.maxAttempts) {
      this.#stats.failed += delivery.count
      logger.error({ webhook: name, id: delivery.id, attempts: delivery.attempts, failure }, `alert webhook ${name}: ${what} given up after ${delivery.attempts} attempt(s): ${failure}`)
      return 'done'
    }
    const backoff = Math.min(retry.maxMs, retry.initialMs * retry.factor ** (delivery.attempts - 1))
    const delayMs = retryAfterMs === undefined ? backoff : Math.min(retry.maxMs, retryAfterMs)
    logger.warn(
      { webhook: name, id: delivery.id, attempt: delivery.attempts, failure, delayMs },
      `alert webhook ${name}: ${what} attempt ${delivery.attempts} of ${retry.maxAttempts} failed (${failure}); retrying in ${delayMs} ms${retryAfterMs === undefined ? '' : ' (Retry-After)'}`,
    )
    return delayMs
  }

  /** Queue overflow is logged at most every 10 s, with the count since the last line. */
  #noteDrop(): void {
    this.#dropsUnlogged++
    const now = performance.now()
    if (now - this.#lastDropLog < 10_000) return
    this.#lastDropLog = now
    const n = this.#dropsUnlogged
    this.#dropsUnlogged = 0
    this.#ctx.logger.warn(
      { webhook: this.#hook.name, dropped: n, total: this.#stats.dropped },
      `alert webhook ${this.#hook.name}: queue full (${this.#ctx.queueMax}), ${n} oldest alert(s) dropped (${this.#stats.dropped} in all)`,
    )
  }
}
