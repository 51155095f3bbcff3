// Keeps one held lock alive and notices when it is gone, with a single timer: it fires at the next extension
// (when auto-extension is on) or at the end of the last confirmed validity, whichever comes first. The loss is
// reported once: an extension found another owner, or the deadline passed without a confirmed extension
// (including a process that was paused or starved past it).

export interface WatchdogOptions {
  /** Extend every this many ms; 0 turns auto-extension off (the deadline still fires). */
  intervalMs: number
  /** performance.now() time until which the lock is known to be held. */
  deadline: number
  /** Extends the lock: the validity in ms from the call's start, 0 when the lock belongs to someone else now. */
  extend: () => Promise<number>
  /** Called once with the reason, when the lock is known or presumed lost. */
  onLost: (reason: string) => void
  /** Called for an extend that failed with an error (the watchdog keeps trying until the deadline). */
  onExtendError: (error: unknown) => void
}

const EXPIRED = 'its TTL ran out before an extension was confirmed'

export class LockWatchdog {
  #options: WatchdogOptions
  #deadline: number
  #nextExtendAt: number
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  #extending = false

  constructor(options: WatchdogOptions) {
    this.#options = options
    this.#deadline = options.deadline
    this.#nextExtendAt = options.intervalMs > 0 ? performance.now() + options.intervalMs : Infinity
    this.#schedule()
  }

  /** Records a validity confirmed by an extend that started at `startedAt` (performance.now()). */
  confirmed(startedAt: number, validityMs: number): void {
    if (this.#stopped) return
    this.#deadline = Math.max(this.#deadline, startedAt + validityMs)
    this.#schedule()
  }

  /** True while the last confirmed validity has not run out. */
  get withinValidity(): boolean {
    return performance.now() < this.#deadline
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    const at = this.#extending ? this.#deadline : Math.min(this.#deadline, this.#nextExtendAt)
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - performance.now()))
    this.#timer.unref()
  }

  #fire(): void {
    if (this.#stopped) return
    const now = performance.now()
    // A timer that fires late (a paused or overloaded process) must still find the deadline passed.
    if (now >= this.#deadline) return this.#lost(EXPIRED)
    if (!this.#extending && now >= this.#nextExtendAt) void this.#extendNow()
    else this.#schedule()
  }

  async #extendNow(): Promise<void> {
    this.#extending = true
    this.#schedule()
    const startedAt = performance.now()
    try {
      const validity = await this.#options.extend()
      if (this.#stopped) return
      if (validity <= 0) return this.#lost('an extension found it held by another owner or expired')
      this.#deadline = Math.max(this.#deadline, startedAt + validity)
      this.#nextExtendAt = performance.now() + this.#options.intervalMs
    } catch (error) {
      if (this.#stopped) return
      this.#options.onExtendError(error)
      // Retry sooner than the regular interval: the deadline is what decides loss.
      this.#nextExtendAt = performance.now() + Math.max(10, Math.min(this.#options.intervalMs, (this.#deadline - performance.now()) / 3))
    } finally {
      this.#extending = false
    }
    if (performance.now() >= this.#deadline) return this.#lost(EXPIRED)
    this.#schedule()
  }

  #lost(reason: string): void {
    if (this.#stopped) return
    this.stop()
    this.#options.onLost(reason)
  }
}
