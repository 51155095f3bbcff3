// The bookkeeping shared by a pooled child process and a pooled thread: boot until `ready`, then hand
// everything the worker sends, prints and its end to the task that took it (the sink).
import { WorkerExitedError } from './errors.ts'
import { LineSplitter, LogTail } from './log-tail.ts'
import { parseChildMessage } from './protocol.ts'

export interface ChildSink {
  message(raw: unknown): void
  output(source: 'stdout' | 'stderr', text: string): void
  closed(exitCode: number | null, signal: string | null, error: unknown): void
}

export class PoolSlot {
  /** resolves once the worker said `ready`; rejects if it ended first */
  readonly ready: Promise<void>
  readonly #what: string
  #markReady!: () => void
  #failBoot!: (error: Error) => void
  #sink: ChildSink | undefined
  #ended = false
  #error: unknown
  #onIdleEnd: (() => void) | undefined
  readonly #bootStderr = new LogTail(10)
  readonly #bootLines = new LineSplitter(500, (line) => this.#bootStderr.push(line))

  /** `what` names the worker in errors: `worker process`, `worker thread`. */
  constructor(what: string) {
    this.#what = what
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve
      this.#failBoot = reject
    })
    // Nobody may be waiting on a spare's readiness; the pool sees its failure through the same promise.
    this.ready.catch(() => {})
  }

  get ended(): boolean {
    return this.#ended
  }

  message(raw: unknown): void {
    if (this.#sink) return this.#sink.message(raw)
    try {
      if (parseChildMessage(raw).type === 'ready') this.#markReady()
    } catch {
      // Before a task is attached only `ready` means anything.
    }
  }

  output(source: 'stdout' | 'stderr', text: string): void {
    if (this.#sink) this.#sink.output(source, text)
    else if (source === 'stderr') this.#bootLines.write(text)
  }

  /** An error the runtime reported about the worker (spawn, send, thread error); kept for the end. */
  failed(error: unknown): void {
    this.#error ??= error
  }

  connect(sink: ChildSink): void {
    this.#sink = sink
    this.#onIdleEnd = undefined
  }

  idle(onEnd: () => void): void {
    this.#onIdleEnd = onEnd
  }

  end(code: number | null, signal: string | null): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#sink) return this.#sink.closed(code, signal, this.#error)
    this.#bootLines.end()
    const how = signal ? `was killed by ${signal}` : code !== null ? `exited with code ${code}` : 'could not start'
    const why = this.#error instanceof Error ? `: ${this.#error.message}` : ''
    const stderr = this.#bootStderr.lines()
    this.#failBoot(
      new WorkerExitedError(`${this.#what} ${how} before it was ready${why}${stderr.length ? `: ${stderr.join(' | ')}` : ''}`, code, signal, {
        cause: this.#error,
      }),
    )
    this.#onIdleEnd?.()
  }
}
