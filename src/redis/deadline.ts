// Timeouts for many concurrent calls without one timer each. A timer per command (setTimeout + clearTimeout)
// costs more than the command itself on a busy connection; here calls are filed in buckets of `resolutionMs`
// by deadline and one unref'd interval rejects the due ones. A timeout fires between `timeoutMs` and
// `timeoutMs + resolutionMs` after the call started.

interface Pending {
  settled: boolean
  reject: (error: Error) => void
  context: string
  timeoutMs: number
}

export class DeadlineWheel {
  readonly resolutionMs: number
  readonly #makeError: (context: string, timeoutMs: number) => Error
  readonly #mapError: (error: unknown, context: string) => Error
  readonly #buckets = new Map<number, Pending[]>()
  #timer: NodeJS.Timeout | undefined

  /**
   * `makeError` builds the timeout error; `mapError` turns a call's own rejection into the caller's error type
   * (default: kept as is, non-errors wrapped).
   */
  constructor(
    makeError: (context: string, timeoutMs: number) => Error,
    mapError: (error: unknown, context: string) => Error = (error) => (error instanceof Error ? error : new Error(String(error))),
    resolutionMs = 5,
  ) {
    this.#makeError = makeError
    this.#mapError = mapError
    this.resolutionMs = resolutionMs
  }

  /** Settles like `pending` (errors through `mapError`), or rejects with the timeout error once `timeoutMs` has passed. */
  race<T>(pending: Promise<T>, timeoutMs: number, context: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { settled: false, reject, context, timeoutMs }
      const res = this.resolutionMs
      const due = Math.ceil((Date.now() + timeoutMs) / res) * res
      const bucket = this.#buckets.get(due)
      if (bucket) bucket.push(entry)
      else this.#buckets.set(due, [entry])
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), res)
        this.#timer.unref()
      }
      pending.then(
        (value) => {
          entry.settled = true
          resolve(value)
        },
        (error: unknown) => {
          entry.settled = true
          reject(this.#mapError(error, context))
        },
      )
    })
  }

  #sweep(): void {
    const now = Date.now()
    // Buckets number about timeout / resolution, so visiting each per sweep is cheap; Map order is insertion order,
    // not deadline order, when calls use different timeouts.
    for (const [due, bucket] of this.#buckets) {
      if (due > now) continue
      this.#buckets.delete(due)
      for (const entry of bucket) {
        if (entry.settled) continue
        entry.settled = true
        entry.reject(this.#makeError(entry.context, entry.timeoutMs))
      }
    }
    if (this.#buckets.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}
