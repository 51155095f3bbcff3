// The worker side of the protocol, shared by the child process, the worker thread and the inline host:
// validates what the parent sends, runs one task, and exits once its outcome has been handed over.
import type { AbortReason } from './abort-reason.ts'
import type { Isolation } from './definition.ts'
import { lazyCacheFromModule, loadWorkerDefinition } from './module-loader.ts'
import { type ChildMessage, type StartMessage, parseParentMessage } from './protocol.ts'
import { Reporter } from './reporter.ts'
import { TaskRunner } from './task-runner.ts'

export interface RuntimeLink {
  /** resolves once the channel took the message; rejects when it is closed */
  send(message: ChildMessage): Promise<void>
  /** ends the process or thread (the inline host: detaches) */
  exit(code: number): void
  writeStderr(text: string): void
}

export interface RuntimeOptions {
  isolation: Isolation
  /** replaces the start message's cache module (the inline host's factory function) */
  cache?: () => Promise<unknown>
}

/** How long a crash's error and release hooks may take when no task settings say otherwise. */
const DEFAULT_CRASH_BUDGET_MS = 1000

export class WorkerRuntime {
  readonly #link: RuntimeLink
  readonly #options: RuntimeOptions
  #runner: TaskRunner | undefined
  #graceMs = DEFAULT_CRASH_BUDGET_MS
  #exiting = false
  #crashed = false

  constructor(link: RuntimeLink, options: RuntimeOptions) {
    this.#link = link
    this.#options = options
  }

  /** One message from the parent; an invalid one is reported on stderr and dropped. */
  receive(raw: unknown): void {
    let message
    try {
      message = parseParentMessage(raw)
    } catch (error) {
      this.#link.writeStderr(`skalds worker: ${(error as Error).message}\n`)
      return
    }
    switch (message.type) {
      case 'start':
        return this.#start(message)
      case 'update':
        return this.#runner?.update(message.updateId, message.attachments)
      case 'abort':
        if (this.#runner) this.#runner.abort(message.reason)
        else this.#exit(0)
        return
      case 'terminate':
        return this.terminate('shutdown')
    }
  }

  /** SIGTERM, the thread host's terminate: stop now (release once, report), then exit. */
  terminate(reason: AbortReason): void {
    if (!this.#runner) return this.#exit(0)
    void this.#runner.forceStop(reason).then(() => this.#exit(0), () => this.#exit(1))
  }

  /** The parent is gone: nobody can hear the outcome, but release still runs, within the grace period. */
  disconnected(): void {
    this.#exitWithin(this.#graceMs, 0)
    this.terminate('shutdown')
  }

  /** An uncaught exception or unhandled rejection: the task fails with it; error and release run within the grace period. */
  crash(error: unknown): void {
    // A second crash while the first is being handled (a hook failing again) changes nothing.
    if (this.#crashed) return
    this.#crashed = true
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)
    this.#link.writeStderr(`${text}\n`)
    this.#exitWithin(this.#graceMs, 1)
    if (!this.#runner) return this.#exit(1)
    void this.#runner.crash(error).then(() => this.#exit(1), () => this.#exit(1))
  }

  #start(message: StartMessage): void {
    if (this.#runner) {
      this.#link.writeStderr('skalds worker: a second start message was ignored (one task per worker)\n')
      return
    }
    const { settings } = message
    this.#graceMs = settings.graceMs
    const reporter = new Reporter((m) => this.#link.send(m), settings.progressIntervalMs)
    this.#runner = new TaskRunner(
      () => loadWorkerDefinition(message.worker),
      {
        taskId: message.taskId,
        epoch: message.epoch,
        attachments: message.attachments,
        resumedFrom: message.resumedFrom,
        settings,
        cache: this.#options.cache ?? lazyCacheFromModule(message.cache),
      },
      reporter,
    )
    void this.#runner.run().then(() => this.#exit(0), () => this.#exit(1))
  }

  #exitWithin(ms: number, code: number): void {
    setTimeout(() => this.#exit(code), ms).unref()
  }

  #exit(code: number): void {
    if (this.#exiting) return
    this.#exiting = true
    this.#link.exit(code)
  }
}
