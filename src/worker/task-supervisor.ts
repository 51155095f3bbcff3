// The host's side of one task, shared by the three hosts: buffers messages until the worker is there, turns
// its messages into events, escalates an abort (signal → term → kill), freezes, and builds the outcome.
import type { AbortReason } from './abort-reason.ts'
import type { Isolation } from './definition.ts'
import { FreezeUnsupportedError, WorkerExitedError } from './errors.ts'
import type { ForcedStop, LogSource, ResolvedHostOptions, TaskOutcome, TaskRun, TaskRunState, UpdateResult, WorkerEvent } from './host.ts'
import type { JsonValue } from './json.ts'
import { LineSplitter, LogTail } from './log-tail.ts'
import { type ChildMessage, type ModuleRef, type OutcomeReport, type ParentMessage, parseChildMessage, toErrorInfo } from './protocol.ts'

/** What a host gives the supervisor to reach one worker (a child process, a thread, an inline runtime). */
export interface Transport {
  readonly pid: number | null
  /** only child processes can be SIGSTOPped */
  readonly canFreeze: boolean
  send(message: ParentMessage): void
  /** the `term` step */
  terminate(): void
  /** the `kill` step */
  kill(): void
  freeze(): void
  thaw(): void
}

export interface SupervisedStart {
  taskId: string
  epoch: number
  worker: ModuleRef
  attachments: unknown
  resumedFrom: JsonValue | undefined
  deadlineAt: number | undefined
  onEvent: ((event: WorkerEvent) => void) | undefined
}

const MAX_TIMER_MS = 2 ** 31 - 1

export class TaskSupervisor implements TaskRun {
  readonly taskId: string
  readonly epoch: number
  readonly isolation: Isolation
  readonly done: Promise<TaskOutcome>
  state: TaskRunState = 'starting'
  lastCheckpoint: JsonValue | undefined
  readonly #options: ResolvedHostOptions
  readonly #onEvent: SupervisedStart['onEvent']
  readonly #startedAt = performance.now()
  readonly #log: LogTail
  readonly #stderr: LogTail
  readonly #splitters: Record<'stdout' | 'stderr', LineSplitter>
  readonly #outbox: ParentMessage[] = []
  readonly #pendingUpdates = new Map<number, (result: UpdateResult) => void>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #resolveDone!: (outcome: TaskOutcome) => void
  #transport: Transport | undefined
  #frozenAllowed = false
  #className = ''
  #reported: OutcomeReport | undefined
  #abortReason: AbortReason | undefined
  #forced: ForcedStop | null = null
  #nextUpdateId = 1

  constructor(start: SupervisedStart, isolation: Isolation, options: ResolvedHostOptions) {
    this.taskId = start.taskId
    this.epoch = start.epoch
    this.isolation = isolation
    this.#options = options
    this.#onEvent = start.onEvent
    this.#log = new LogTail(options.logTailLines)
    this.#stderr = new LogTail(options.stderrTailLines)
    this.#splitters = {
      stdout: new LineSplitter(options.logLineMaxChars, (line) => this.#logLine('stdout', line)),
      stderr: new LineSplitter(options.logLineMaxChars, (line) => {
        this.#stderr.push(line)
        this.#logLine('stderr', line)
      }),
    }
    this.done = new Promise((resolve) => (this.#resolveDone = resolve))
    const settings = options
    this.#outbox.push({
      type: 'start',
      taskId: start.taskId,
      epoch: start.epoch,
      worker: start.worker,
      attachments: start.attachments,
      ...(start.resumedFrom === undefined ? {} : { resumedFrom: start.resumedFrom }),
      settings: {
        aliveIntervalMs: settings.aliveIntervalMs,
        progressIntervalMs: settings.progressIntervalMs,
        checkpointMaxBytes: settings.checkpointMaxBytes,
        logLevel: settings.logLevel,
        graceMs: settings.graceMs,
      },
      cache: options.cache,
    })
    if (start.deadlineAt !== undefined) this.#armDeadline(start.deadlineAt)
  }

  get pid(): number | null {
    return this.#transport?.pid ?? null
  }

  // ---- the host's side --------------------------------------------------------------------------------

  /** Connects the worker; false when the task already ended (the host then disposes of the worker). */
  attach(transport: Transport): boolean {
    if (this.state === 'done') return false
    this.#transport = transport
    for (const message of this.#outbox.splice(0)) transport.send(message)
    return true
  }

  /** One message from the worker: validated, then acted on; an invalid one is noted in the task's log. */
  receive(raw: unknown): void {
    if (this.state === 'done') return
    let message: ChildMessage
    try {
      message = parseChildMessage(raw)
    } catch (error) {
      this.#logLine('host', (error as Error).message)
      return
    }
    this.#handle(message)
  }

  /** Text the worker wrote to stdout or stderr. */
  output(source: 'stdout' | 'stderr', text: string): void {
    if (this.state !== 'done') this.#splitters[source].write(text)
  }

  /** The worker's process or thread is gone (for inline: the runtime let go); settles the outcome. */
  exited(exitCode: number | null, signal: string | null, cause?: unknown): void {
    if (this.state === 'done') return
    this.#splitters.stdout.end()
    this.#splitters.stderr.end()
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    const base = {
      taskId: this.taskId,
      exitCode,
      signal,
      stderrTail: this.#stderr.lines(),
      checkpoint: this.lastCheckpoint,
      durationMs: Math.round(performance.now() - this.#startedAt),
    }
    const reported = this.#reported
    let outcome: TaskOutcome
    if (reported?.status === 'finished') outcome = { ...base, status: 'finished' }
    else if (reported?.status === 'failed') outcome = { ...base, status: 'failed', error: reported.error }
    else if (reported?.status === 'aborted') outcome = { ...base, status: 'aborted', reason: reported.reason, forced: this.#forced }
    else if (this.#abortReason) outcome = { ...base, status: 'aborted', reason: this.#abortReason, forced: this.#forced }
    else if (cause instanceof WorkerExitedError) {
      // The worker died before it could be given the task (a pooled child that could not boot): its own account.
      outcome = { ...base, exitCode: cause.exitCode, signal: cause.signal, status: 'failed', error: toErrorInfo(cause) }
    } else outcome = { ...base, status: 'failed', error: toErrorInfo(this.#exitError(exitCode, signal, cause)) }
    this.state = 'done'
    for (const [updateId, resolve] of this.#pendingUpdates) resolve({ updateId, accepted: false, reason: 'the task ended' })
    this.#pendingUpdates.clear()
    this.#emit({ type: 'done', taskId: this.taskId, outcome })
    this.#resolveDone(outcome)
  }

  // ---- TaskRun -----------------------------------------------------------------------------------------

  update(attachments: unknown): Promise<UpdateResult> {
    const updateId = this.#nextUpdateId++
    if (this.state === 'done' || this.state === 'stopping') return Promise.resolve({ updateId, accepted: false, reason: 'the task is ending' })
    return new Promise((resolve) => {
      this.#pendingUpdates.set(updateId, resolve)
      this.#send({ type: 'update', updateId, attachments })
    })
  }

  abort(reason: AbortReason): void {
    if (this.state === 'done' || this.#abortReason) return
    this.#abortReason = reason
    if (this.state === 'frozen') this.thaw()
    this.state = 'stopping'
    this.#send({ type: 'abort', reason })
    const { graceMs, killAfterMs } = this.#options
    this.#after(graceMs, () => this.#escalate('term'))
    this.#after(graceMs + killAfterMs, () => this.#escalate('kill'))
  }

  freeze(): void {
    if (this.state === 'frozen') return
    if (!this.#transport?.canFreeze) throw new FreezeUnsupportedError(`task ${this.taskId}: freeze needs process isolation, this task runs ${this.isolation}`)
    if (!this.#frozenAllowed) throw new FreezeUnsupportedError(`task ${this.taskId}: class ${this.#className || '(not loaded yet)'} was not defined with freeze: true`)
    if (this.state !== 'running') throw new FreezeUnsupportedError(`task ${this.taskId}: only a running task can be frozen (it is ${this.state})`)
    this.#transport.freeze()
    this.state = 'frozen'
    this.#emit({ type: 'frozen', taskId: this.taskId })
  }

  thaw(): void {
    if (this.state !== 'frozen') return
    this.#transport!.thaw()
    this.state = 'running'
    this.#emit({ type: 'thawed', taskId: this.taskId })
  }

  logTail(): string[] {
    return this.#log.lines()
  }

  // ---- internals ---------------------------------------------------------------------------------------

  #handle(message: ChildMessage): void {
    const taskId = this.taskId
    switch (message.type) {
      case 'ready':
        return
      case 'loaded':
        this.#className = message.className
        this.#frozenAllowed = message.freeze
        return
      case 'started':
        if (this.state === 'starting') this.state = 'running'
        return this.#emit({ type: 'started', taskId, className: this.#className, pid: this.pid })
      case 'hook':
        return this.#emit({ type: 'hook', taskId, hook: message.hook })
      case 'alive':
        return this.#emit({ type: 'alive', taskId, at: Date.now() })
      case 'progress':
        return this.#emit({ type: 'progress', taskId, value: message.value, message: message.message })
      case 'checkpoint':
        this.lastCheckpoint = message.state
        return this.#emit({ type: 'checkpoint', taskId, state: message.state })
      case 'log':
        return this.#logLine('logger', message.line)
      case 'stage': {
        const { type: _type, ...stage } = message
        return this.#emit({ type: 'stage', taskId, ...stage })
      }
      case 'update-result': {
        const resolve = this.#pendingUpdates.get(message.updateId)
        this.#pendingUpdates.delete(message.updateId)
        if (message.accepted) {
          resolve?.({ updateId: message.updateId, accepted: true })
          return this.#emit({ type: 'update-accepted', taskId, updateId: message.updateId })
        }
        const reason = message.reason ?? 'rejected'
        resolve?.({ updateId: message.updateId, accepted: false, reason })
        return this.#emit({ type: 'update-rejected', taskId, updateId: message.updateId, reason })
      }
      case 'outcome':
        this.#reported ??= message.outcome
        return
    }
  }

  #send(message: ParentMessage): void {
    if (this.#transport) this.#transport.send(message)
    else this.#outbox.push(message)
  }

  #escalate(step: ForcedStop): void {
    if (this.state === 'done') return
    // A worker that already reported its outcome stopped by itself; only its exit is slow. It still must go.
    if (!this.#reported) {
      this.#forced = step
      this.#logLine('host', `the worker did not stop within the grace period: ${step}`)
    }
    const transport = this.#transport
    if (!transport) return this.exited(null, null)
    if (step === 'term') transport.terminate()
    else transport.kill()
  }

  #armDeadline(deadlineAt: number): void {
    const wait = deadlineAt - Date.now()
    if (wait > MAX_TIMER_MS) this.#after(MAX_TIMER_MS, () => this.#armDeadline(deadlineAt))
    else this.#after(Math.max(0, wait), () => this.abort('deadline'))
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      fn()
    }, ms)
    this.#timers.add(timer)
  }

  #exitError(exitCode: number | null, signal: string | null, cause: unknown): WorkerExitedError {
    const what = this.isolation === 'thread' ? 'worker thread' : this.isolation === 'inline' ? 'inline worker' : 'worker process'
    const how = signal ? `was killed by ${signal}` : exitCode !== null ? `exited with code ${exitCode}` : 'could not run'
    const why = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`
    const last = this.#stderr.lines().at(-1)
    return new WorkerExitedError(`${what} ${how} before reporting an outcome${why}${last ? ` (stderr: ${last})` : ''}`, exitCode, signal, { cause })
  }

  #logLine(source: LogSource, text: string): void {
    const max = this.#options.logLineMaxChars
    const line = text.length > max ? `${text.slice(0, max)} …[truncated]` : text
    this.#log.push(`[${source}] ${line}`)
    this.#emit({ type: 'log', taskId: this.taskId, source, line })
  }

  #emit(event: WorkerEvent): void {
    if (!this.#onEvent) return
    try {
      this.#onEvent(event)
    } catch (error) {
      // A throwing listener must not break the task's bookkeeping; the note goes to the log only.
      if (event.type !== 'log') this.#log.push(`[host] onEvent threw on ${event.type}: ${(error as Error)?.message ?? String(error)}`)
    }
  }
}
