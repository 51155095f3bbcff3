// One worker thread: boots to `ready` (the worker API and preloads imported), then belongs to a task.
// While idle it does not keep the host's event loop alive.
import { Worker, type ResourceLimits } from 'node:worker_threads'
import { OutputWatch, ended } from './child-output.ts'
import { type ChildSink, PoolSlot } from './pool-slot.ts'
import type { Pooled } from './warm-pool.ts'

export interface ThreadSettings {
  entry: URL
  /** modules the thread imports before it says ready */
  preload: string[]
  resourceLimits: ResourceLimits | undefined
}

/** After a thread's exit, its stdout/stderr are read until they end or stay silent this long. */
const OUTPUT_IDLE_MS = 50

export class PooledThread implements Pooled {
  readonly #slot = new PoolSlot('worker thread')
  readonly #output = new OutputWatch()
  #worker: Worker | undefined

  constructor(settings: ThreadSettings) {
    const slot = this.#slot
    let worker: Worker
    try {
      worker = new Worker(settings.entry, {
        stdout: true,
        stderr: true,
        workerData: { preload: settings.preload },
        ...(settings.resourceLimits ? { resourceLimits: settings.resourceLimits } : {}),
      })
    } catch (error) {
      slot.failed(error)
      slot.end(null, null)
      return
    }
    this.#worker = worker
    worker.on('message', (raw) => slot.message(raw))
    worker.on('error', (error: Error) => slot.failed(error))
    worker.once('exit', (code) => {
      void this.#output.settle(ended([worker.stdout, worker.stderr]), OUTPUT_IDLE_MS).then(() => slot.end(code, null))
    })
  }

  get ready(): Promise<void> {
    return this.#slot.ready
  }

  get ended(): boolean {
    return this.#slot.ended
  }

  connect(sink: ChildSink): void {
    this.#slot.connect(sink)
    const worker = this.#worker
    if (!worker) return
    worker.ref()
    // Reading a thread's stdio keeps the host alive even when the thread is unref'd, so an idle thread's
    // output is read only from here on (a boot failure still arrives as the thread's error).
    this.#output.forward(worker.stdout, (text) => this.#slot.output('stdout', text))
    this.#output.forward(worker.stderr, (text) => this.#slot.output('stderr', text))
  }

  idle(onEnd: () => void): void {
    this.#slot.idle(onEnd)
    this.#worker?.unref()
  }

  send(message: unknown): void {
    if (!this.#slot.ended) this.#worker?.postMessage(message)
  }

  /** Stops the thread at once, even in a synchronous loop (V8 TerminateExecution). */
  terminate(): void {
    if (!this.#slot.ended) void this.#worker?.terminate()
  }

  async stop(): Promise<void> {
    if (!this.#slot.ended) await this.#worker?.terminate()
  }
}
