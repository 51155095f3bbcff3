// The inline host: the worker runs on the caller's own event loop. Fastest to start, no isolation: a crash is
// the caller's crash, and a synchronous busy loop cannot be preempted (the grace timers cannot even fire).
import type { Isolation } from './definition.ts'
import { WorkerHostClosedError } from './errors.ts'
import type { StartRequest, TaskRun, WorkerHost, WorkerHostOptions } from './host.ts'
import { resolveHostOptions, toModuleRef } from './host-options.ts'
import type { ResolvedHostOptions } from './host.ts'
import { lazyOnce } from './module-loader.ts'
import { TaskSupervisor, type Transport } from './task-supervisor.ts'
import { WorkerRuntime } from './worker-runtime.ts'
import { HostRuns, supervisedStart } from './host-runs.ts'

export interface InlineHostOptions extends WorkerHostOptions {
  /** inline only: what `ctx.cache()` returns, created once per host on the first call (instead of `cache`) */
  cacheFactory?: () => unknown
}

export class InlineHost implements WorkerHost {
  readonly isolation: Isolation = 'inline'
  readonly #options: ResolvedHostOptions
  readonly #cache: (() => Promise<unknown>) | undefined
  readonly #runs = new HostRuns()

  constructor(options: InlineHostOptions = {}) {
    const { cacheFactory, ...rest } = options
    this.#options = resolveHostOptions(rest)
    this.#cache = cacheFactory ? lazyOnce(cacheFactory) : undefined
  }

  get running(): number {
    return this.#runs.size
  }

  start(request: StartRequest): TaskRun {
    if (this.#runs.closed) throw new WorkerHostClosedError('inline host: closed')
    const supervisor = new TaskSupervisor(supervisedStart(request, toModuleRef(request.worker)), this.isolation, this.#options)
    // Detached = the host has let go (outcome handed over, or the hooks abandoned): nothing crosses any more.
    let detached = false
    const runtime = new WorkerRuntime(
      {
        send: (message) => {
          if (detached) return Promise.reject(new Error('inline task detached'))
          setImmediate(() => supervisor.receive(message))
          return Promise.resolve()
        },
        exit: () => {
          detached = true
          setImmediate(() => supervisor.exited(null, null))
        },
        writeStderr: (text) => setImmediate(() => supervisor.output('stderr', text)),
      },
      { isolation: 'inline', ...(this.#cache ? { cache: this.#cache } : {}) },
    )
    const transport: Transport = {
      pid: null,
      canFreeze: false,
      // JSON on the way in, as over IPC: the worker never shares the caller's objects.
      send: (message) => {
        const copy: unknown = JSON.parse(JSON.stringify(message))
        setImmediate(() => detached || runtime.receive(copy))
      },
      terminate: () => runtime.terminate('shutdown'),
      kill: () => {
        detached = true
        supervisor.exited(null, null)
      },
      freeze: () => {},
      thaw: () => {},
    }
    supervisor.attach(transport)
    return this.#runs.track(supervisor)
  }

  close(): Promise<void> {
    return this.#runs.close()
  }
}
