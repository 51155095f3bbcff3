// The process host (the default isolation): each task in its own child process, taken from a warm pool.
// Crashes, exits, leaks and busy loops stay in the child; abort escalates to SIGTERM then SIGKILL; a class
// defined with `freeze: true` can be SIGSTOPped and SIGCONTed in place.
import { withCompileCache } from './compile-cache.ts'
import type { Isolation } from './definition.ts'
import { WorkerArgumentError, WorkerHostClosedError } from './errors.ts'
import { HostRuns, supervisedStart } from './host-runs.ts'
import { resolveHostOptions, toModuleRef } from './host-options.ts'
import type { ResolvedHostOptions, StartRequest, TaskRun, WorkerHost, WorkerHostOptions, WorkerRef } from './host.ts'
import { siblingModule } from './module-loader.ts'
import { PooledChild } from './pooled-child.ts'
import { WarmPool } from './warm-pool.ts'
import { TaskSupervisor } from './task-supervisor.ts'
import { tuningFlags, V8_TUNINGS, type V8Tuning } from './v8-footprint.ts'

const PROCESS_ENTRY = siblingModule('process-entry', import.meta.url)

export interface ProcessHostOptions extends WorkerHostOptions {
  /** children kept booted and waiting; 0 = every task forks cold; default 2 */
  poolSize?: number
  /** Node flags of the children, after those of `v8Tuning` (a flag given again here wins); default none */
  execArgv?: string[]
  /**
   * `footprint` (default): the children start with V8 flags that keep an idle child small (later tier-up, 2 MB
   * semi-spaces; src/worker/v8-footprint.ts says what each saves and costs); `none`: Node's V8 defaults.
   */
  v8Tuning?: V8Tuning
  /**
   * environment of the children; default process.env. The host adds NODE_COMPILE_CACHE (Node's module compile cache,
   * under the OS temp dir) unless this sets NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE; the child takes it out
   * again before the worker loads.
   */
  env?: NodeJS.ProcessEnv
  /** modules a pooled child imports while it boots (the worker modules it will likely run), so a start skips them */
  preload?: Array<string | URL>
}

export class ProcessHost implements WorkerHost {
  readonly isolation: Isolation = 'process'
  readonly #options: ResolvedHostOptions
  readonly #pool: WarmPool<PooledChild>
  readonly #runs = new HostRuns()

  constructor(options: ProcessHostOptions = {}) {
    const { poolSize = 2, execArgv = [], env = process.env, preload = [], v8Tuning = 'footprint', ...rest } = options
    if (!Number.isInteger(poolSize) || poolSize < 0) throw new WorkerArgumentError(`process host options.poolSize: must be a non-negative integer, got ${poolSize}`)
    if (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string')) throw new WorkerArgumentError('process host options.execArgv: must be an array of strings')
    if (!V8_TUNINGS.includes(v8Tuning)) throw new WorkerArgumentError(`process host options.v8Tuning: must be one of ${V8_TUNINGS.join(', ')}, got ${JSON.stringify(v8Tuning)}`)
    this.#options = resolveHostOptions(rest)
    const childArgv = [...tuningFlags(v8Tuning), ...execArgv]
    const modules = preload.map((module) => toModuleRef({ module } satisfies WorkerRef, 'preload').module)
    // The env is read at each fork, as before: a change to process.env reaches the children started after it.
    this.#pool = new WarmPool(poolSize, () => new PooledChild({ entry: PROCESS_ENTRY, execArgv: childArgv, env: withCompileCache(env), preload: modules }))
  }

  get running(): number {
    return this.#runs.size
  }

  /** Pooled children booted and waiting. */
  get warm(): number {
    return this.#pool.idle
  }

  start(request: StartRequest): TaskRun {
    if (this.#runs.closed) throw new WorkerHostClosedError('process host: closed')
    const supervisor = new TaskSupervisor(supervisedStart(request, toModuleRef(request.worker)), this.isolation, this.#options)
    this.#pool.acquire().then(
      (child) => {
        child.connect({
          message: (raw) => supervisor.receive(raw),
          output: (source, text) => supervisor.output(source, text),
          closed: (code, signal, error) => supervisor.exited(code, signal, error),
        })
        const attached = supervisor.attach({
          pid: child.pid,
          canFreeze: true,
          send: (message) => child.send(message),
          terminate: () => void child.signal('SIGTERM'),
          kill: () => void child.signal('SIGKILL'),
          freeze: () => void child.signal('SIGSTOP'),
          thaw: () => void child.signal('SIGCONT'),
        })
        // The task ended (aborted) while it waited for a child: the child goes unused.
        if (!attached) child.signal('SIGKILL')
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
