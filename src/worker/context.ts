// The context every hook gets: the task's identity, live attachments, abort signal, reporting and helpers.
import { type Logger, pino } from 'pino'
import type { AbortReason } from './abort-reason.ts'
import { TaskAbortedError, WorkerArgumentError } from './errors.ts'
import { type JsonValue, toBoundedJson } from './json.ts'
import { type StageEvent, type StageOptions, runStage } from './stage.ts'

export type { Logger }

export interface WorkerContext<A = unknown, S = unknown> {
  readonly taskId: string
  readonly className: string
  /** the assignment's fencing token, as the host was given it */
  readonly epoch: number
  /** the current attachments, validated by the schema; replaced when an update is accepted */
  readonly attachments: A
  /** what the definition's `state()` built for this task (undefined without one) */
  readonly state: S
  /** fires when the task is asked to stop; `signal.reason` is a TaskAbortedError */
  readonly signal: AbortSignal
  /** why the signal fired, or undefined while it has not */
  readonly abortReason: AbortReason | undefined
  /** the last checkpoint of a paused run this one resumes, or undefined on a fresh start */
  readonly resumedFrom: JsonValue | undefined
  /** pino, bound to taskId and className; lines go to the task's log on the host */
  readonly logger: Logger
  /** reports progress: `value` in percent (0–100), with an optional message; coalesced, the last one always arrives */
  progress(value: number, message?: string): void
  /** records a small JSON state to resume from after a pause (bounded; the host keeps the last one) */
  checkpoint(state: JsonValue): void
  /** waits `ms` milliseconds; rejects with the abort reason as soon as the signal fires */
  sleep(ms: number): Promise<void>
  /** runs one named step with per-step retries and backoff; an abort is never retried */
  stage<T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StageOptions): Promise<T>
  /** the host's cache toolkit, created on first call (nothing is loaded otherwise) */
  cache<T = unknown>(): Promise<T>
}

/** What the context reports to, implemented by the runner. */
export interface ContextOutlet {
  progress(value: number, message: string | null): void
  checkpoint(state: JsonValue): void
  logLine(line: string): void
  stage(event: StageEvent): void
}

export interface ContextSettings {
  taskId: string
  className: string
  epoch: number
  resumedFrom: JsonValue | undefined
  checkpointMaxBytes: number
  logLevel: string
  cache: () => Promise<unknown>
}

const MAX_PROGRESS_MESSAGE = 1000

/** The runner's side of a context: it owns the abort controller and swaps the attachments. */
export class TaskContext<A, S> implements WorkerContext<A, S> {
  readonly taskId: string
  readonly className: string
  readonly epoch: number
  readonly resumedFrom: JsonValue | undefined
  #logger: Logger | undefined
  readonly signal: AbortSignal
  state: S
  attachments: A
  readonly #controller = new AbortController()
  readonly #settings: ContextSettings
  readonly #outlet: ContextOutlet

  constructor(settings: ContextSettings, attachments: A, outlet: ContextOutlet) {
    this.taskId = settings.taskId
    this.className = settings.className
    this.epoch = settings.epoch
    this.resumedFrom = settings.resumedFrom
    this.attachments = attachments
    this.state = undefined as S
    this.signal = this.#controller.signal
    this.#settings = settings
    this.#outlet = outlet
  }

  /** Made on first use: a pino instance costs more than a short task's whole run, and many never log. */
  get logger(): Logger {
    const { logLevel, taskId, className } = this.#settings
    const outlet = this.#outlet
    this.#logger ??= pino({ level: logLevel, base: { taskId, className } }, { write: (line: string) => outlet.logLine(line.endsWith('\n') ? line.slice(0, -1) : line) })
    return this.#logger
  }

  get abortReason(): AbortReason | undefined {
    return this.signal.aborted ? (this.signal.reason as TaskAbortedError).reason : undefined
  }

  /** Fires the signal once; later calls keep the first reason. */
  abort(reason: AbortReason): void {
    if (!this.signal.aborted) this.#controller.abort(new TaskAbortedError(reason))
  }

  progress = (value: number, message?: string): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
      throw new WorkerArgumentError(`progress: value must be a percent between 0 and 100, got ${String(value)}`)
    }
    if (message !== undefined && typeof message !== 'string') throw new WorkerArgumentError('progress: message must be a string')
    this.#outlet.progress(value, message === undefined ? null : message.slice(0, MAX_PROGRESS_MESSAGE))
  }

  checkpoint = (state: JsonValue): void => {
    this.#outlet.checkpoint(toBoundedJson(state, this.#settings.checkpointMaxBytes).copy)
  }

  sleep = (ms: number): Promise<void> => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new WorkerArgumentError(`sleep: ms must be a non-negative number, got ${String(ms)}`))
    }
    const signal = this.signal
    if (signal.aborted) return Promise.reject(signal.reason as Error)
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(signal.reason as Error)
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  stage = <T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StageOptions): Promise<T> =>
    runStage({ signal: this.signal, sleep: this.sleep, report: (event) => this.#outlet.stage(event) }, name, fn, options)

  cache = <T = unknown>(): Promise<T> => this.#settings.cache() as Promise<T>
}
