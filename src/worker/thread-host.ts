// The thread host: each task in its own worker thread (its own event loop and module graph). Starts faster
// than a process and can stop a busy loop (Worker.terminate), but shares the process: a native crash or a
// signal the worker sends itself takes the node with it, and it cannot be frozen.
import { Worker } from 'node:worker_threads'
import type { Isolation } from './definition.ts'
import { WorkerHostClosedError } from './errors.ts'
import { HostRuns, supervisedStart } from './host-runs.ts'
import { resolveHostOptions, toModuleRef } from './host-options.ts'
import type { ResolvedHostOptions, StartRequest, TaskRun, WorkerHost, WorkerHostOptions } from './host.ts'
import { OutputWatch, ended } from './child-output.ts'
import { siblingModule } from './module-loader.ts'
import { TaskSupervisor } from './task-supervisor.ts'

const THREAD_ENTRY = siblingModule('thread-entry', import.meta.url)

/** After a thread's exit, its stdout/stderr are read until they end or stay silent this long. */
const OUTPUT_IDLE_MS = 50

export interface ThreadHostOptions extends WorkerHostOptions {
  /** V8 heap limits of each thread (worker_threads resourceLimits) */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number }
}

export class ThreadHost implements WorkerHost {
  readonly isolation: Isolation = 'thread'
  readonly #options: ResolvedHostOptions
  readonly #resourceLimits: ThreadHostOptions['resourceLimits']
  readonly #runs = new HostRuns()

  constructor(options: ThreadHostOptions = {}) {
    const { resourceLimits, ...rest } = options
    this.#options = resolveHostOptions(rest)
    this.#resourceLimits = resourceLimits
  }

  get running(): number {
    return this.#runs.size
  }

  start(request: StartRequest): TaskRun {
    if (this.#runs.closed) throw new WorkerHostClosedError('thread host: closed')
    const supervisor = new TaskSupervisor(supervisedStart(request, toModuleRef(request.worker)), this.isolation, this.#options)
    let worker: Worker
    try {
      worker = new Worker(THREAD_ENTRY, { stdout: true, stderr: true, ...(this.#resourceLimits ? { resourceLimits: this.#resourceLimits } : {}) })
    } catch (error) {
      supervisor.exited(null, null, error)
      return supervisor
    }
    const output = new OutputWatch()
    output.forward(worker.stdout, (text) => supervisor.output('stdout', text))
    output.forward(worker.stderr, (text) => supervisor.output('stderr', text))
    let failure: unknown
    worker.on('message', (raw) => supervisor.receive(raw))
    worker.on('error', (error: Error) => {
      failure = error
    })
    worker.once('exit', (code) => {
      void output.settle(ended([worker.stdout, worker.stderr]), OUTPUT_IDLE_MS).then(() => supervisor.exited(code, null, failure))
    })
    supervisor.attach({
      pid: null,
      canFreeze: false,
      send: (message) => worker.postMessage(message),
      terminate: () => worker.postMessage({ type: 'terminate' }),
      kill: () => void worker.terminate(),
      freeze: () => {},
      thaw: () => {},
    })
    return this.#runs.track(supervisor)
  }

  close(): Promise<void> {
    return this.#runs.close()
  }
}
