// A warm pool of pre-started worker processes, so a process-isolated task does not pay Node's start-up.
// Children are single-use: each runs one task and exits; the pool forks a replacement right away.
import { WorkerHostClosedError } from './errors.ts'
import { type ForkSettings, PooledChild } from './pooled-child.ts'

interface Waiter {
  resolve(child: PooledChild): void
  reject(error: unknown): void
}

/** After this many children in a row fail to boot, the pool stops refilling on its own (each acquire still tries). */
const MAX_BOOT_FAILURES = 3
/** How long close() waits for idle children to exit after SIGTERM before it SIGKILLs them. */
const CLOSE_KILL_MS = 1000

export class ProcessPool {
  readonly #size: number
  readonly #fork: ForkSettings
  readonly #idle: PooledChild[] = []
  readonly #booting = new Set<PooledChild>()
  readonly #waiters: Waiter[] = []
  #bootFailures = 0
  #closed = false

  constructor(size: number, fork: ForkSettings) {
    this.#size = size
    this.#fork = fork
    this.#balance()
  }

  /** Children ready and waiting. */
  get idle(): number {
    return this.#idle.length
  }

  /** A ready child: a warm one at once, else the next to finish booting (forking one if needed). */
  acquire(): Promise<PooledChild> {
    if (this.#closed) return Promise.reject(new WorkerHostClosedError('process pool: closed'))
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      this.#balance()
    })
  }

  /** Stops refilling and ends the idle and booting children (SIGTERM, SIGKILL after a second). */
  async close(): Promise<void> {
    this.#closed = true
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new WorkerHostClosedError('process pool: closed'))
    const spare = [...this.#idle.splice(0), ...this.#booting]
    this.#booting.clear()
    await Promise.all(spare.map((child) => stop(child)))
  }

  #balance(): void {
    while (this.#waiters.length > 0 && this.#idle.length > 0) this.#waiters.shift()!.resolve(this.#idle.shift()!)
    if (this.#closed) return
    const wanted = this.#waiters.length + (this.#bootFailures < MAX_BOOT_FAILURES ? this.#size : 0)
    while (this.#idle.length + this.#booting.size < wanted) this.#spawn()
  }

  #spawn(): void {
    const child = new PooledChild(this.#fork)
    this.#booting.add(child)
    child.ready.then(
      () => {
        if (!this.#booting.delete(child)) return
        this.#bootFailures = 0
        const waiter = this.#waiters.shift()
        if (waiter) return waiter.resolve(child)
        this.#idle.push(child)
        child.idle(() => {
          const at = this.#idle.indexOf(child)
          if (at !== -1) this.#idle.splice(at, 1)
          this.#balance()
        })
      },
      (error: unknown) => {
        if (!this.#booting.delete(child)) return
        this.#bootFailures++
        // A child that cannot boot would fail the next one too: tell the oldest waiter instead of retrying forever.
        this.#waiters.shift()?.reject(error)
        this.#balance()
      },
    )
  }
}

async function stop(child: PooledChild): Promise<void> {
  if (child.ended || child.process.exitCode !== null || child.process.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()))
  child.signal('SIGTERM')
  const timer = setTimeout(() => child.signal('SIGKILL'), CLOSE_KILL_MS)
  await exited
  clearTimeout(timer)
}
