// The thread host: each task in its own worker thread (its own event loop and module graph), taken from a
// warm pool. Stops a busy loop (Worker.terminate), but shares the process: a native crash or a signal the
// worker sends itself takes the node with it, and it cannot be frozen.
import type { ResourceLimits } from 'node:worker_threads'
import type { Isolation } from './definition.ts'
import { WorkerArgumentError, WorkerHostClosedError } from './errors.ts'
import { HostRuns, supervisedStart } from './host-runs.ts'
import { resolveHostOptions, toModuleRef } from './host-options.ts'
import type { ResolvedHostOptions, StartRequest, TaskRun, WorkerHost, WorkerHostOptions } from './host.ts'
import { siblingModule } from './module-loader.ts'
import { PooledThread } from './pooled-thread.ts'
import { TaskSupervisor } from './task-supervisor.ts'
import { WarmPool } from './warm-pool.ts'

const THREAD_ENTRY = siblingModule('thread-entry', import.meta.url)

export interface ThreadHostOptions extends WorkerHostOptions {
  /** threads kept booted and waiting; 0 = every task starts a thread cold; default 2 */
  poolSize?: number
  /** V8 heap limits of each thread (worker_threads resourceLimits) */
  resourceLimits?: ResourceLimits
  /** modules a pooled thread imports while it boots, so a start skips them */
  preload?: Array<string | URL>
}

export class ThreadHost implements WorkerHost {
  readonly isolation: Isolation = 'thread'
  readonly #options: ResolvedHostOptions
  readonly #pool: WarmPool<PooledThread>
  readonly #runs = new HostRuns()

  constructor(options: ThreadHostOptions = {}) {
    const { poolSize = 2, resourceLimits, preload = [], ...rest } = options
    if (!Number.isInteger(poolSize) || poolSize < 0) throw new WorkerArgumentError(`thread host options.poolSize: must be a non-negative integer, got ${poolSize}`)
    this.#options = resolveHostOptions(rest)
    const modules = preload.map((module) => toModuleRef({ module }, 'preload').module)
    this.#pool = new WarmPool(poolSize, () => new PooledThread({ entry: THREAD_ENTRY, preload: modules, resourceLimits }))
  }

  get running(): number {
    return this.#runs.size
  }

  /** Pooled threads booted and waiting. */
  get warm(): number {
    return this.#pool.idle
  }

  start(request: StartRequest): TaskRun {
    if (this.#runs.closed) throw new WorkerHostClosedError('thread host: closed')
    const supervisor = new TaskSupervisor(supervisedStart(request, toModuleRef(request.worker)), this.isolation, this.#options)
    this.#pool.acquire().then(
      (thread) => {
        thread.connect({
          message: (raw) => supervisor.receive(raw),
          output: (source, text) => supervisor.output(source, text),
          closed: (code, _signal, error) => supervisor.exited(code, null, error),
        })
        const attached = supervisor.attach({
          pid: null,
          canFreeze: false,
          send: (message) => thread.send(message),
          terminate: () => thread.send({ type: 'terminate' }),
          kill: () => thread.terminate(),
          freeze: () => {},
          thaw: () => {},
        })
        // The task ended (aborted) while it waited for a thread: the thread goes unused.
        if (!attached) thread.terminate()
      },
      (error: unknown) => supervisor.exited(null, null, error),
    )
    return this.#runs.track(supervisor)
  }

  async close(): Promise<void> {
    await this.#runs.close()
    await this.#pool.close()
  }
}
