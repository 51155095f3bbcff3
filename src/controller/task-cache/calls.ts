// Small promise tools of the reads: a deadline that leaves the call running, a value answered but not cached, and
// a synchronous throw turned into a rejection.

/** A value the factory built but must not be cached (the Skald state was unreadable): getOrSet stores nothing on a throw. */
export class Uncached extends Error {
  readonly value: unknown
  constructor(value: unknown) {
    super('answered, not cached')
    this.value = value
  }
}

export async function unwrap<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise
  } catch (error) {
    if (error instanceof Uncached) return error.value as T
    throw error
  }
}

/** getOrSet throws synchronously on a bad key: as a rejection, it takes the same way as any cache failure. */
export function attempt<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run()
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)))
  }
}

export const TIMED_OUT: unique symbol = Symbol('timed out')

/** The promise's value, or TIMED_OUT after `ms`; the promise itself runs on (its rejection is handled here). */
export function deadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT)
  })
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer))
}
