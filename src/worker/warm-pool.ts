// A warm pool of pre-started workers (child processes or threads), so a task does not pay their start-up.
// Workers are single-use: each runs one task and ends; the pool starts a replacement right away.
import { WorkerHostClosedError } from './errors.ts'

/** What the pool keeps: something that boots, waits idle, and can be stopped while idle or booting. */
export interface Pooled {
  /** resolves once booted; rejects if it ended first */
  readonly ready: Promise<void>
  readonly ended: boolean
  /** it waits in the pool: `onEnd` if it dies there; it must not hold the host's event loop open */
  idle(onEnd: () => void): void
  /** ends an idle or booting one */
  stop(): Promise<void>
}

interface Waiter<T> {
  resolve(worker: T): void
  reject(error: unknown): void
}

/** After this many workers in a row fail to boot, the pool stops refilling on its own (each acquire still tries). */
const MAX_BOOT_FAILURES = 3
/**
 * A replacement for a worker just handed out starts this much later, ms. Forking blocks the caller for a few
 * milliseconds (measured 2–5 ms in a node's process) and the new child's boot takes a core for a while: done at once,
 * both landed on the task that had just taken the warm worker, between its start and its main hook.
 */
const REFILL_DELAY_MS = 25

export class WarmPool<T extends Pooled> {
  readonly #size: number
  readonly #spawn: () => T
  readonly #idle: T[] = []
  readonly #booting = new Set<T>()
  readonly #waiters: Array<Waiter<T>> = []
  #bootFailures = 0
  #closed = false
  #refill: NodeJS.Timeout | undefined

  constructor(size: number, spawn: () => T) {
    this.#size = size
    this.#spawn = spawn
    this.#balance(true)
  }

  /** Workers ready and waiting. */
  get idle(): number {
    return this.#idle.length
  }

  /** A ready worker: a warm one at once, else the next to finish booting (starting one if needed). */
  acquire(): Promise<T> {
    if (this.#closed) return Promise.reject(new WorkerHostClosedError('worker pool: closed'))
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      this.#balance()
    })
  }

  /** Stops refilling and ends the idle and booting workers. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#refill)
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new WorkerHostClosedError('worker pool: closed'))
    const spare = [...this.#idle.splice(0), ...this.#booting]
    this.#booting.clear()
    await Promise.all(spare.map((worker) => worker.stop()))
  }

  /** Hands idle workers to waiters, starts what waiters still need now, and tops the pool up (soon, or `now`). */
  #balance(now = false): void {
    let handedOut = false
    while (this.#waiters.length > 0 && this.#idle.length > 0) {
      this.#waiters.shift()!.resolve(this.#idle.shift()!)
      handedOut = true
    }
    if (this.#closed || !this.#fill(this.#waiters.length)) return
    const wanted = this.#waiters.length + (this.#bootFailures < MAX_BOOT_FAILURES ? this.#size : 0)
    if (now || !handedOut) this.#fill(wanted)
    else if (this.#idle.length + this.#booting.size < wanted) {
      this.#refill ??= setTimeout(() => {
        this.#refill = undefined
        this.#balance(true)
      }, REFILL_DELAY_MS).unref()
    }
  }

  /** Starts workers until `count` are idle or booting; false when one could not even be started. */
  #fill(count: number): boolean {
    while (this.#idle.length + this.#booting.size < count) if (!this.#start()) return false
    return true
  }

  /** Starts one worker; false when even that threw (bad settings), after telling the oldest waiter. */
  #start(): boolean {
    let worker: T
    try {
      worker = this.#spawn()
    } catch (error) {
      this.#bootFailures++
      this.#waiters.shift()?.reject(error)
      return false
    }
    this.#booting.add(worker)
    worker.ready.then(
      () => {
        if (!this.#booting.delete(worker)) return
        this.#bootFailures = 0
        const waiter = this.#waiters.shift()
        if (waiter) return waiter.resolve(worker)
        this.#idle.push(worker)
        worker.idle(() => {
          const at = this.#idle.indexOf(worker)
          if (at !== -1) this.#idle.splice(at, 1)
          this.#balance()
        })
      },
      (error: unknown) => {
        if (!this.#booting.delete(worker)) return
        this.#bootFailures++
        // One that cannot boot would fail the next one too: tell the oldest waiter instead of retrying forever.
        this.#waiters.shift()?.reject(error)
        this.#balance()
      },
    )
    return true
  }
}
