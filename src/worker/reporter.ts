// What a running task tells its host: every report becomes one protocol message, except progress, which is
// coalesced to one message per interval (the latest value always arrives), and alive ticks from a timer.
import type { ContextOutlet } from './context.ts'
import type { AnyWorkerDefinition } from './definition.ts'
import type { JsonValue } from './json.ts'
import type { ChildMessage, HookName, OutcomeReport } from './protocol.ts'
import type { StageEvent } from './stage.ts'

export type Send = (message: ChildMessage) => Promise<void>

export class Reporter implements ContextOutlet {
  readonly #send: Send
  readonly #progressIntervalMs: number
  #aliveTimer: NodeJS.Timeout | undefined
  #progressTimer: NodeJS.Timeout | undefined
  #pendingProgress: Extract<ChildMessage, { type: 'progress' }> | undefined
  #lastProgressAt = -Infinity
  #closed = false

  constructor(send: Send, progressIntervalMs: number) {
    this.#send = send
    this.#progressIntervalMs = progressIntervalMs
  }

  /** Starts the alive ticks; the timer does not keep the event loop alive on its own. */
  startAlive(intervalMs: number): void {
    this.#post({ type: 'alive' })
    this.#aliveTimer = setInterval(() => this.#post({ type: 'alive' }), intervalMs)
    this.#aliveTimer.unref()
  }

  progress(value: number, message: string | null): void {
    this.#pendingProgress = { type: 'progress', value, message }
    const wait = this.#lastProgressAt + this.#progressIntervalMs - performance.now()
    if (wait <= 0) this.#flushProgress()
    else if (!this.#progressTimer) {
      this.#progressTimer = setTimeout(() => this.#flushProgress(), wait)
      this.#progressTimer.unref()
    }
  }

  checkpoint(state: JsonValue): void {
    this.#flushProgress()
    this.#post({ type: 'checkpoint', state })
  }

  logLine(line: string): void {
    this.#post({ type: 'log', line })
  }

  stage(event: StageEvent): void {
    this.#post({ type: 'stage', ...event })
  }

  hook(hook: HookName): void {
    // Progress made inside a hook is reported before the next hook begins.
    this.#flushProgress()
    this.#post({ type: 'hook', hook })
  }

  loaded(definition: AnyWorkerDefinition): void {
    this.#post({ type: 'loaded', className: definition.className, isolation: definition.isolation, freeze: definition.freeze })
  }

  started(): void {
    this.#post({ type: 'started' })
  }

  updateResult(updateId: number, accepted: boolean, reason: string | null): void {
    this.#post({ type: 'update-result', updateId, accepted, reason })
  }

  /**
   * Flushes progress, stops the timers and sends the outcome; resolves once the channel took it, or could not
   * (the parent is gone: nobody is left to tell). Later reports are dropped.
   */
  outcome(outcome: OutcomeReport): Promise<void> {
    this.#flushProgress()
    clearInterval(this.#aliveTimer)
    const sent = this.#send({ type: 'outcome', outcome }).catch(() => {})
    this.#closed = true
    return sent
  }

  #flushProgress(): void {
    clearTimeout(this.#progressTimer)
    this.#progressTimer = undefined
    const pending = this.#pendingProgress
    if (!pending) return
    this.#pendingProgress = undefined
    this.#lastProgressAt = performance.now()
    this.#post(pending)
  }

  #post(message: ChildMessage): void {
    // A late report (a hook still running after the outcome) has nowhere to go; the channel may be closed.
    if (!this.#closed) this.#send(message).catch(() => {})
  }
}
