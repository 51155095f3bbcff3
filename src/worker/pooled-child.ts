// One forked worker process: boots to `ready`, then belongs to a task, whose sink receives its messages,
// output and end. While idle it does not keep the parent's event loop alive.
import { type ChildProcess, fork } from 'node:child_process'
import type { Socket } from 'node:net'
import { OutputWatch } from './child-output.ts'
import { WorkerExitedError } from './errors.ts'
import { LineSplitter, LogTail } from './log-tail.ts'
import { parseChildMessage } from './protocol.ts'

export interface ChildSink {
  message(raw: unknown): void
  output(source: 'stdout' | 'stderr', text: string): void
  closed(exitCode: number | null, signal: string | null, error: unknown): void
}

export interface ForkSettings {
  entry: URL
  execArgv: string[]
  env: NodeJS.ProcessEnv
  /** modules the child imports before it says ready */
  preload: string[]
}

/**
 * After a child's exit, its `close` (stdio and IPC drained) is awaited while output keeps arriving; this much
 * silence ends the wait (a grandchild may hold the pipes open).
 */
const CLOSE_IDLE_MS = 50

export class PooledChild {
  readonly process: ChildProcess
  /** resolves once the child said `ready`; rejects if it ended first */
  readonly ready: Promise<void>
  #sink: ChildSink | undefined
  #ended = false
  #error: unknown
  #onIdleEnd: (() => void) | undefined
  readonly #failBoot: (error: Error) => void
  readonly #bootStderr = new LogTail(10)
  readonly #bootLines = new LineSplitter(500, (line) => this.#bootStderr.push(line))

  constructor(settings: ForkSettings) {
    let markReady!: () => void
    let failBoot!: (error: Error) => void
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve
      failBoot = reject
    })
    // Nobody may be waiting on a spare's readiness; its failure is handled by the pool through the same promise.
    this.ready.catch(() => {})
    this.process = fork(settings.entry, settings.preload, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: settings.execArgv,
      env: settings.env,
      serialization: 'json',
    })
    const child = this.process
    child.on('message', (raw) => {
      if (this.#sink) return this.#sink.message(raw)
      try {
        if (parseChildMessage(raw).type === 'ready') markReady()
      } catch {
        // Before a task is attached only `ready` means anything.
      }
    })
    const output = new OutputWatch()
    output.forward(child.stdout, (text) => this.#sink?.output('stdout', text))
    output.forward(child.stderr, (text) => (this.#sink ? this.#sink.output('stderr', text) : this.#bootLines.write(text)))
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    child.on('error', (error) => {
      this.#error ??= error
      // A failed spawn never exits: end it here.
      if (child.pid === undefined) this.#end(null, null)
    })
    child.once('exit', (code, signal) => {
      void output.settle(closed, CLOSE_IDLE_MS).then(() => this.#end(code, signal))
    })
    this.#failBoot = failBoot
  }

  get pid(): number | null {
    return this.process.pid ?? null
  }

  get ended(): boolean {
    return this.#ended
  }

  /** The child now belongs to a task: everything it sends, prints and its end go to `sink`. */
  connect(sink: ChildSink): void {
    this.#sink = sink
    this.#onIdleEnd = undefined
    this.#setRef(true)
  }

  /** The child waits in the pool: `onEnd` if it dies there; it does not hold the parent's event loop open. */
  idle(onEnd: () => void): void {
    this.#onIdleEnd = onEnd
    this.#setRef(false)
  }

  /** Sends a message if the channel is open (a dying child's channel may already be closed). */
  send(message: unknown): void {
    if (!this.process.connected) return
    this.process.send(message as object, (error) => {
      if (error) this.#error ??= error
    })
  }

  /** Sends a signal; false when the child is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.#ended) return false
    try {
      return this.process.kill(signal)
    } catch {
      return false
    }
  }

  #end(code: number | null, signal: string | null): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#sink) return this.#sink.closed(code, signal, this.#error)
    this.#bootLines.end()
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    const stderr = this.#bootStderr.lines()
    this.#failBoot(
      new WorkerExitedError(`worker process ${how} before it was ready${stderr.length ? `: ${stderr.join(' | ')}` : ''}`, code, signal, {
        cause: this.#error,
      }),
    )
    this.#onIdleEnd?.()
  }

  #setRef(ref: boolean): void {
    const child = this.process
    const handles: Array<{ ref(): unknown; unref(): unknown } | null | undefined> = [
      child,
      child.channel,
      child.stdout as Socket | null,
      child.stderr as Socket | null,
    ]
    for (const handle of handles) {
      if (!handle) continue
      if (ref) handle.ref()
      else handle.unref()
    }
  }
}
