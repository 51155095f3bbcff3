// The tests' one way to wait: poll for a condition with a generous deadline instead of a fixed sleep, so a loaded
// machine slows tests, not fails them. Every helper takes (what to wait on, what it is called, timeout in ms).

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/** Polls `check` until it returns a truthy value (resolved with it) or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as Truthy<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/**
 * Calls `attempt` until it resolves (with its value), or rethrows its last error once `timeoutMs` has passed: for
 * a server that is still starting, or a publish while the engine restarts.
 */
export async function retry<T>(attempt: () => Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms retrying ${what}: ${String(error)}`, { cause: error })
    }
    await sleep(intervalMs)
  }
}

/** Resolves with the promise's value, or rejects when it takes longer than `timeoutMs`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
