// The WorkerHost interface: what runs one worker task (inline, in a worker thread or in a child process),
// the events it reports and the outcome a task ends with. Every host passes the same contract suite.
import type { AbortReason } from './abort-reason.ts'
import type { Isolation } from './definition.ts'
import type { JsonValue } from './json.ts'
import type { ErrorInfo, HookName, ModuleRef } from './protocol.ts'

/** The worker to run: the module that exports its definition (absolute path, file URL or package specifier) and the export. */
export interface WorkerRef {
  module: string | URL
  /** default `default` */
  export?: string
}

export interface StartRequest {
  worker: WorkerRef
  taskId: string
  /** the assignment's fencing token, handed to the worker as `ctx.epoch`; default 0 */
  epoch?: number
  /** validated by the worker's schema before its first hook */
  attachments: unknown
  /** the checkpoint of the paused run this one resumes (`ctx.resumedFrom`) */
  resumedFrom?: JsonValue
  /** epoch ms: when it passes, the task is aborted with reason `deadline` */
  deadlineAt?: number
  /** every event of the task, the last one being `done`; called synchronously, must not throw */
  onEvent?: (event: WorkerEvent) => void
}

/** Where a log line came from: the task's pino logger, the child's stdout or stderr, or the host itself. */
export type LogSource = 'logger' | 'stdout' | 'stderr' | 'host'

/**
 * The escalation step that ended an aborted task that did not stop by itself within the grace period:
 * `term` = SIGTERM (process), the terminate message (thread) or a forced release (inline);
 * `kill` = SIGKILL (process), Worker.terminate() (thread) or abandoning the still-running hooks (inline).
 */
export type ForcedStop = 'term' | 'kill'

export interface OutcomeBase {
  taskId: string
  /** the child's exit code (process, thread); null inline, or when a signal ended it */
  exitCode: number | null
  /** the signal that ended the child process, e.g. `SIGKILL`; null otherwise */
  signal: string | null
  /** the last lines the child wrote to stderr */
  stderrTail: string[]
  /** the last checkpoint the worker recorded, if any */
  checkpoint: JsonValue | undefined
  /** from start() to the end, ms */
  durationMs: number
}

export type TaskOutcome =
  | (OutcomeBase & { status: 'finished' })
  | (OutcomeBase & { status: 'failed'; error: ErrorInfo })
  | (OutcomeBase & { status: 'aborted'; reason: AbortReason; forced: ForcedStop | null })

export type WorkerEvent =
  | { type: 'started'; taskId: string; className: string; pid: number | null }
  | { type: 'hook'; taskId: string; hook: HookName }
  /** the worker's event loop is turning: heartbeat-worthy (none while frozen or busy-looping) */
  | { type: 'alive'; taskId: string; at: number }
  | { type: 'progress'; taskId: string; value: number; message: string | null }
  | { type: 'checkpoint'; taskId: string; state: JsonValue }
  | { type: 'stage'; taskId: string; name: string; attempt: number; status: 'started' | 'retrying' | 'done' | 'failed'; error?: string }
  | { type: 'log'; taskId: string; source: LogSource; line: string }
  | { type: 'update-accepted'; taskId: string; updateId: number }
  | { type: 'update-rejected'; taskId: string; updateId: number; reason: string }
  | { type: 'frozen'; taskId: string }
  | { type: 'thawed'; taskId: string }
  | { type: 'done'; taskId: string; outcome: TaskOutcome }

export type UpdateResult = { updateId: number; accepted: true } | { updateId: number; accepted: false; reason: string }

export type TaskRunState = 'starting' | 'running' | 'frozen' | 'stopping' | 'done'

/** One task on a host. */
export interface TaskRun {
  readonly taskId: string
  readonly epoch: number
  readonly isolation: Isolation
  /** the child's pid (process isolation), else null */
  readonly pid: number | null
  readonly state: TaskRunState
  /** the last checkpoint received */
  readonly lastCheckpoint: JsonValue | undefined
  /** resolves (never rejects) when the task has ended and its process or thread is gone */
  readonly done: Promise<TaskOutcome>
  /** sends new attachments; resolves when the worker accepted them (schema, update hook) or rejected them */
  update(attachments: unknown): Promise<UpdateResult>
  /** fires the worker's signal with `reason`; SIGTERM after the grace period, SIGKILL shortly after. Idempotent. */
  abort(reason: AbortReason): void
  /** SIGSTOPs the child in place (process isolation, classes defined with `freeze: true`) */
  freeze(): void
  /** SIGCONTs a frozen child */
  thaw(): void
  /** the task's bounded log: logger lines, stdout, stderr, host notes */
  logTail(): string[]
}

export interface WorkerHost {
  readonly isolation: Isolation
  /** tasks started and not yet done */
  readonly running: number
  start(request: StartRequest): TaskRun
  /** aborts running tasks with `shutdown`, waits for them, stops pooled children; starts nothing afterwards */
  close(): Promise<void>
}

export interface WorkerHostOptions {
  /** abort → the `term` step (SIGTERM; thread: terminate message; inline: forced release), ms; default 5000 */
  graceMs?: number
  /** `term` → `kill` (SIGKILL; thread: Worker.terminate(); inline: abandon), ms; default 30, at most 90 (the rest of the 100 ms is for the OS and a loaded event loop) */
  killAfterMs?: number
  /** interval of the worker's alive ticks, ms; default 1000 */
  aliveIntervalMs?: number
  /** progress reports are coalesced to one per interval, ms; default 100 */
  progressIntervalMs?: number
  /** the largest checkpoint, bytes of JSON; default 65536 */
  checkpointMaxBytes?: number
  /** the task logger's pino level; default `info` */
  logLevel?: string
  /** lines kept in a task's log; default 200 */
  logTailLines?: number
  /** stderr lines kept for a failed task's outcome; default 20 */
  stderrTailLines?: number
  /** longer lines are cut, characters; default 2000 */
  logLineMaxChars?: number
  /** what `ctx.cache()` returns: a module exporting a factory, imported in the worker on the first call */
  cache?: WorkerRef | null
}

/** The options with their defaults filled in. */
export type ResolvedHostOptions = Required<Omit<WorkerHostOptions, 'cache'>> & { cache: ModuleRef | null }
