// One task's lifecycle on the worker's own event loop: validate → before → main → after, error on a failure,
// release exactly once, updates one at a time between awaits, abort with a reason, forced stop and crashes.
import type { AbortReason } from './abort-reason.ts'
import { TaskContext } from './context.ts'
import type { AnyWorkerDefinition, TaskEnding } from './definition.ts'
import { TaskAbortedError, WorkerAttachmentsError } from './errors.ts'
import type { JsonValue } from './json.ts'
import { type HookName, type OutcomeReport, type RunSettings, toErrorInfo } from './protocol.ts'
import type { Reporter } from './reporter.ts'
import { validateWith } from './standard-schema.ts'

export interface RunnerStart {
  taskId: string
  epoch: number
  attachments: unknown
  resumedFrom: JsonValue | undefined
  settings: RunSettings
  /** the cache toolkit, created on first call */
  cache: () => Promise<unknown>
}

interface PendingUpdate {
  updateId: number
  attachments: unknown
}

export class TaskRunner {
  readonly #load: () => Promise<AnyWorkerDefinition>
  #definition!: AnyWorkerDefinition
  readonly #start: RunnerStart
  readonly #reporter: Reporter
  #ctx: TaskContext<unknown, unknown> | undefined
  #pendingAbort: AbortReason | undefined
  #ending: TaskEnding | undefined
  #release: Promise<void> | undefined
  #outcome: Promise<OutcomeReport> | undefined
  #errorHookRan = false
  #updatesOpen = false
  #draining = false
  readonly #updates: PendingUpdate[] = []

  /** `load` imports the worker's definition; the runner queues updates and aborts that arrive meanwhile. */
  constructor(load: () => Promise<AnyWorkerDefinition>, start: RunnerStart, reporter: Reporter) {
    this.#load = load
    this.#start = start
    this.#reporter = reporter
  }

  /** Runs the whole lifecycle; resolves with the outcome once it has been reported. */
  async run(): Promise<OutcomeReport> {
    const { settings } = this.#start
    this.#reporter.startAlive(settings.aliveIntervalMs)
    let def: AnyWorkerDefinition
    try {
      def = await this.#load()
    } catch (error) {
      return this.#report({ status: 'failed', error }, false)
    }
    this.#definition = def
    this.#reporter.loaded(def)
    const checked = await validateWith(def.attachments, this.#start.attachments)
    if (!checked.ok) {
      // Nothing was entered, so there is nothing to release: the task fails before its first hook.
      return this.#report({ status: 'failed', error: new WorkerAttachmentsError(def.className, checked.reason) }, false)
    }
    // Stopped (forced or aborted) while the module loaded or the schema ran: no hook was entered.
    if (this.#outcome) return this.#outcome
    if (this.#pendingAbort) return this.#report({ status: 'aborted', reason: this.#pendingAbort }, false)
    const ctx = new TaskContext<unknown, unknown>(
      {
        taskId: this.#start.taskId,
        className: def.className,
        epoch: this.#start.epoch,
        resumedFrom: this.#start.resumedFrom,
        checkpointMaxBytes: settings.checkpointMaxBytes,
        logLevel: settings.logLevel,
        cache: this.#start.cache,
      },
      checked.value,
      this.#reporter,
    )
    this.#ctx = ctx
    this.#reporter.started()
    let ending: TaskEnding
    try {
      ctx.state = def.state?.()
      await this.#hook('before')
      this.#openUpdates()
      if (!ctx.signal.aborted) await this.#hook('main')
      if (!ctx.signal.aborted) await this.#hook('after')
      ending = ctx.signal.aborted ? this.#abortedEnding() : { status: 'finished' }
    } catch (error) {
      if (ctx.signal.aborted) ending = this.#abortedEnding()
      else {
        ending = { status: 'failed', error }
        await this.#errorHook(error)
      }
    }
    return this.#report(ending, true)
  }

  /** Queues new attachments; they reach the update hook after before returned, one at a time. */
  update(updateId: number, attachments: unknown): void {
    this.#updates.push({ updateId, attachments })
    if (this.#updatesOpen) void this.#drainUpdates()
  }

  /** Fires the abort signal with `reason` (the first reason wins). */
  abort(reason: AbortReason): void {
    if (this.#ctx) this.#ctx.abort(reason)
    else this.#pendingAbort ??= reason
  }

  /** Stops without waiting for main: abort, release once, report. For SIGTERM and the thread host's terminate. */
  forceStop(reason: AbortReason): Promise<OutcomeReport> {
    this.abort(reason)
    return this.#report(this.#abortedEnding(), this.#ctx !== undefined)
  }

  /** An uncaught exception or unhandled rejection: the task failed; error hook and release still run once. */
  async crash(error: unknown): Promise<OutcomeReport> {
    if (this.#ctx && !this.#ctx.signal.aborted) await this.#errorHook(error)
    const ending: TaskEnding = this.#ctx?.signal.aborted ? this.#abortedEnding() : { status: 'failed', error }
    return this.#report(ending, this.#ctx !== undefined)
  }

  #abortedEnding(): TaskEnding {
    return { status: 'aborted', reason: this.#ctx?.abortReason ?? this.#pendingAbort ?? 'shutdown' }
  }

  async #hook(name: 'before' | 'main' | 'after'): Promise<void> {
    const hook = this.#definition[name]
    if (!hook) return
    this.#reporter.hook(name)
    await hook(this.#ctx!)
  }

  async #errorHook(error: unknown): Promise<void> {
    if (this.#errorHookRan || !this.#definition.error) return
    this.#errorHookRan = true
    await this.#guarded('error', () => this.#definition.error!(this.#ctx!, error))
  }

  /** The first caller decides the ending; every caller waits for the same release and the same report. */
  #report(ending: TaskEnding, release: boolean): Promise<OutcomeReport> {
    this.#ending ??= ending
    this.#outcome ??= (async () => {
      this.#closeUpdates()
      if (release) await this.#releaseOnce()
      const final = this.#ending!
      const report: OutcomeReport =
        final.status === 'failed'
          ? { status: 'failed', error: toErrorInfo(final.error) }
          : final.status === 'aborted'
            ? { status: 'aborted', reason: final.reason }
            : { status: 'finished' }
      await this.#reporter.outcome(report)
      return report
    })()
    return this.#outcome
  }

  #releaseOnce(): Promise<void> {
    const release = this.#definition.release
    this.#release ??= release ? this.#guarded('release', () => release(this.#ctx!, this.#ending!)) : Promise.resolve()
    return this.#release
  }

  /** Runs error or release: their own failures are logged, never change the outcome. */
  async #guarded(name: HookName, call: () => unknown): Promise<void> {
    this.#reporter.hook(name)
    try {
      await call()
    } catch (error) {
      this.#ctx?.logger.error({ err: error }, `${name} hook threw`)
    }
  }

  #openUpdates(): void {
    this.#updatesOpen = true
    void this.#drainUpdates()
  }

  #closeUpdates(): void {
    this.#updatesOpen = false
    for (const pending of this.#updates.splice(0)) this.#reporter.updateResult(pending.updateId, false, 'the task is ending')
  }

  async #drainUpdates(): Promise<void> {
    if (this.#draining) return
    this.#draining = true
    try {
      while (this.#updatesOpen && this.#updates.length > 0) await this.#applyUpdate(this.#updates.shift()!)
    } finally {
      this.#draining = false
    }
  }

  async #applyUpdate({ updateId, attachments }: PendingUpdate): Promise<void> {
    const ctx = this.#ctx!
    const checked = await validateWith(this.#definition.attachments, attachments)
    if (!checked.ok) return this.#rejectUpdate(updateId, `attachments rejected by the schema: ${checked.reason}`)
    if (!this.#updatesOpen) return this.#rejectUpdate(updateId, 'the task is ending')
    const hook = this.#definition.update
    if (hook) {
      this.#reporter.hook('update')
      try {
        await hook(ctx, checked.value)
      } catch (error) {
        if (error instanceof TaskAbortedError) return this.#rejectUpdate(updateId, 'the task is ending')
        return this.#rejectUpdate(updateId, `the update hook threw: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    ctx.attachments = checked.value
    this.#reporter.updateResult(updateId, true, null)
  }

  #rejectUpdate(updateId: number, reason: string): void {
    this.#ctx?.logger.warn({ updateId }, `update rejected: ${reason}`)
    this.#reporter.updateResult(updateId, false, reason)
  }
}
