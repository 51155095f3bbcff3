// Keeps one held lock alive and notices when it is gone. Two timers: an extension every `intervalMs` (when
// auto-extension is on), and a deadline at the end of the last confirmed validity. Whichever reveals the loss
// first (an extend finding another owner, or the deadline passing without a confirmed extend) reports it once.

export interface WatchdogOptions {
  /** Extend every this many ms; 0 turns auto-extension off (the deadline still fires). */
  intervalMs: number
  /** performance.now() time until which the lock is known to be held. */
  deadline: number
  /** Extends the lock: the validity in ms from the call's start, 0 when the lock belongs to someone else now. */
  extend: () => Promise<number>
  /** Called once with the reason, when the lock is known or presumed lost. */
  onLost: (reason: string, cause?: unknown) => void
  /** Called for an extend that failed with an error (the watchdog keeps trying until the deadline). */
  onExtendError: (error: unknown) => void
}

export class LockWatchdog {
  #options: WatchdogOptions
  #deadline: number
  #tick: ReturnType<typeof setTimeout> | undefined
  #expiry: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  #extending = false

  constructor(options: WatchdogOptions) {
    this.#options = options
    this.#deadline = options.deadline
    this.#armExpiry()
    this.#scheduleTick(options.intervalMs)
  }

  /** Records a validity confirmed by an extend that started at `startedAt` (performance.now()). */
  confirmed(startedAt: number, validityMs: number): void {
    if (this.#stopped) return
    this.#deadline = Math.max(this.#deadline, startedAt + validityMs)
    this.#armExpiry()
  }

  /** True while the last confirmed validity has not run out. */
  get withinValidity(): boolean {
    return performance.now() < this.#deadline
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#tick)
    clearTimeout(this.#expiry)
  }

  #armExpiry(): void {
    clearTimeout(this.#expiry)
    const wait = Math.max(0, this.#deadline - performance.now())
    this.#expiry = setTimeout(() => this.#checkExpiry(), wait)
    this.#expiry.unref()
  }

  #checkExpiry(): void {
    if (this.#stopped) return
    // A timer that fires late (a paused or overloaded process) must still find the deadline passed.
    if (performance.now() >= this.#deadline) this.#lost('its TTL ran out before an extension was confirmed')
    else this.#armExpiry()
  }

  #scheduleTick(delay: number): void {
    if (this.#stopped || this.#options.intervalMs <= 0) return
    this.#tick = setTimeout(() => void this.#extendNow(), delay)
    this.#tick.unref()
  }

  async #extendNow(): Promise<void> {
    if (this.#stopped || this.#extending) return
    // Woken after the deadline (a paused process): the lock may have changed hands; say so before anything else.
    if (performance.now() >= this.#deadline) {
      this.#lost('its TTL ran out before an extension was confirmed')
      return
    }
    this.#extending = true
    const startedAt = performance.now()
    try {
      const validity = await this.#options.extend()
      if (this.#stopped) return
      if (validity <= 0) {
        this.#lost('an extension found it held by another owner or expired')
        return
      }
      this.confirmed(startedAt, validity)
      this.#scheduleTick(this.#options.intervalMs)
    } catch (error) {
      if (this.#stopped) return
      this.#options.onExtendError(error)
      // Retry sooner than the regular interval: the deadline is what decides loss.
      this.#scheduleTick(Math.max(10, Math.min(this.#options.intervalMs, (this.#deadline - performance.now()) / 3)))
    } finally {
      this.#extending = false
    }
  }

  #lost(reason: string, cause?: unknown): void {
    if (this.#stopped) return
    this.stop()
    this.#options.onLost(reason, cause)
  }
}
