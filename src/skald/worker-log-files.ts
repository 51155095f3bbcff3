// Where a Skald with log files (LOG_PATH) writes its workers' lines: the worker's logger, its stdout and stderr. They
// always go to the task's bounded log in Redis (the API's log endpoint); with LOG_PATH they are kept whole on disk
// too. Into the Skald's own log file by default, each with its task id and source, as a Python worker's loguru
// lines land in its Skald's file; with LOG_SPLIT_WITH_WORKER_ID into a file per task, `<skaldId>_<taskId>.<n>.log`,
// as Python names them, closed when the task's run ends here.
import { type LogFileSettings, type LogFileStream, openLogFile } from '../config/log-files.ts'
import type { Logger } from '../config/logger.ts'
import type { NodeEvent } from './node-events.ts'

export interface WorkerLogFilesOptions {
  skaldId: string
  /** the log directory and rotation (retention is the process log's sweep, which covers the same directory) */
  settings: Pick<LogFileSettings, 'dir' | 'rotationMb'>
  /** a file per task (`LOG_SPLIT_WITH_WORKER_ID`); else every line goes to `processLog` */
  split: boolean
  /** the Skald's logger, writing to its own log file */
  processLog: Logger
}

interface TaskFile {
  /** undefined once opening failed: the task's lines are dropped (they are still in Redis) */
  stream: Promise<LogFileStream | undefined>
}

export class WorkerLogFiles {
  readonly #o: WorkerLogFilesOptions
  readonly #files = new Map<string, TaskFile>()
  readonly #opened = new Set<LogFileStream>()

  constructor(options: WorkerLogFilesOptions) {
    this.#o = options
  }

  /** A Skald's `onEvent` listener: worker log lines are written, a task's file is closed when its run ends. Never throws. */
  readonly onNodeEvent = (event: NodeEvent): void => {
    if (event.type === 'worker' && event.event.type === 'log') this.#line(event.taskId, event.event.source, event.event.line)
    else if (event.type === 'task-ended' || event.type === 'task-rejected') void this.#closeTask(event.taskId)
  }

  /** The task files open now (the retention sweep leaves them alone). */
  openFiles(): string[] {
    return [...this.#opened].map((s) => s.file)
  }

  /** Closes every task file still open. */
  async close(): Promise<void> {
    await Promise.all([...this.#files.keys()].map((taskId) => this.#closeTask(taskId)))
  }

  #line(taskId: string, source: string, line: string): void {
    if (!this.#o.split) {
      // A logger line is pino's JSON from the worker: its fields and level carry over, not a JSON string as msg.
      const json = source === 'logger' ? parseObject(line) : undefined
      if (json) {
        const { level, time: _time, pid: _pid, hostname: _host, msg, ...fields } = json
        this.#o.processLog[methodOf(level)]({ ...fields, taskId, source }, typeof msg === 'string' ? msg : '')
      } else this.#o.processLog[source === 'stderr' ? 'warn' : 'info']({ taskId, source }, line)
      return
    }
    let file = this.#files.get(taskId)
    if (!file) {
      const failing = (error: Error): void => this.#o.processLog.warn({ err: error, taskId }, "worker log file: a write failed; the task's lines are lost to its file (Redis keeps the newest)")
      const opening = openLogFile(this.#o.settings, `${this.#o.skaldId}_${taskId}`, failing)
      const stream = opening.then(
        (s) => {
          this.#opened.add(s)
          return s
        },
        (error: unknown) => {
          this.#o.processLog.warn({ err: error, taskId }, "worker log file: could not open the task's file; its lines stay in Redis only")
          return undefined
        },
      )
      this.#files.set(taskId, (file = { stream }))
    }
    // A logger line is already pino's JSON (with taskId and className); other sources are wrapped alike.
    const json = source === 'logger' && line.startsWith('{') ? line : JSON.stringify({ level: 30, time: Date.now(), taskId, source, msg: line })
    void file.stream.then((s) => s?.write(`${json}\n`))
  }

  async #closeTask(taskId: string): Promise<void> {
    const file = this.#files.get(taskId)
    if (!file) return
    this.#files.delete(taskId)
    const stream = await file.stream
    if (stream) this.#opened.delete(stream)
    await stream?.close()
  }
}

function parseObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** pino's level numbers (20 debug, 30 info, 40 warn, 50 error, 60 fatal) to the Logger's methods */
function methodOf(level: unknown): 'debug' | 'info' | 'warn' | 'error' {
  if (typeof level !== 'number') return 'info'
  return level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug'
}
