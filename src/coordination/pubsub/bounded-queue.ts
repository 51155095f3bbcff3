// The buffer between a subscription's listener (push) and its async iterator (pull): bounded, with an explicit
// overflow policy, so a slow consumer can never make the process hold an unbounded backlog.
import { PubSubOverflowError } from './errors.ts'

/**
 * What happens when a message arrives and the buffer is full:
 * - `drop-oldest`: the oldest buffered message is discarded and counted in `dropped`; the subscription goes on.
 * - `error`: the subscription ends; the buffered messages are still delivered, then the iterator throws
 *   PubSubOverflowError.
 */
export type OverflowPolicy = 'drop-oldest' | 'error'

interface Waiter<T> {
  resolve: (result: IteratorResult<T, undefined>) => void
  reject: (error: Error) => void
}

export class BoundedQueue<T> {
  readonly capacity: number
  readonly policy: OverflowPolicy
  /** Messages discarded by the `drop-oldest` policy. */
  dropped = 0
  #items: T[] = []
  #waiters: Array<Waiter<T>> = []
  #ended = false
  #error: Error | undefined
  #onOverflow: () => void

  constructor(capacity: number, policy: OverflowPolicy, onOverflow: () => void) {
    this.capacity = capacity
    this.policy = policy
    this.#onOverflow = onOverflow
  }

  get ended(): boolean {
    return this.#ended
  }

  get size(): number {
    return this.#items.length
  }

  push(item: T): void {
    if (this.#ended) return
    const waiter = this.#waiters.shift()
    if (waiter) {
      waiter.resolve({ value: item, done: false })
      return
    }
    if (this.#items.length >= this.capacity) {
      if (this.policy === 'drop-oldest') {
        this.#items.shift()
        this.dropped++
      } else {
        this.fail(new PubSubOverflowError(`subscription buffer of ${this.capacity} messages overflowed (overflow policy 'error'); the consumer is too slow`))
        this.#onOverflow()
        return
      }
    }
    this.#items.push(item)
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false })
    if (this.#error) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Ends the stream: buffered items are still delivered, then `done`. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true })
  }

  /** Ends the stream with an error, thrown after the buffered items. */
  fail(error: Error): void {
    if (this.#ended) return
    this.#ended = true
    this.#error = error
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error)
  }

  /** Drops buffered items (used by `return()`: the consumer stopped reading). */
  clear(): void {
    this.#items = []
  }
}
