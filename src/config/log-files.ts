// Log files (Python Skalds' LOG_PATH, LOG_ROTATION_MB, LOG_RETENTION). A process given a log directory writes its
// JSON lines there as well as to stdout, in numbered files rolled at a size (pino-roll), and removes the directory's
// log files that nothing wrote to for the retention, at start and every hour, as Python's cleaner does. pino-roll
// keeps a number of files, not an age, hence the sweep here.
import { readdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import type { SkaldsConfig } from './env.ts'
import { InvalidConfigError } from './errors.ts'
import { createLogger, type Logger } from './logger.ts'

/** Where and how log files are written: `LOG_PATH`, `LOG_ROTATION_MB`, `LOG_RETENTION` (SkaldsConfig['log']). */
export interface LogFileSettings {
  /** the directory; created when missing */
  dir: string
  /** a file is rolled to the next number once it reaches this size, MB */
  rotationMb: number
  /** files in `dir` not written to for this long are removed, ms */
  retentionMs: number
}

/** The log file settings of a configuration: undefined when `LOG_PATH` is unset. */
export function logFileSettings(config: Pick<SkaldsConfig, 'log'>): LogFileSettings | undefined {
  const { path, rotationMb, retentionMs } = config.log
  return path === undefined ? undefined : { dir: path, rotationMb, retentionMs }
}

/**
 * A process's log as its configuration says (`LOG_LEVEL`, `LOG_PATH`, `LOG_ROTATION_MB`, `LOG_RETENTION`), its file
 * `<LOG_PATH>/<fileName>.<n>.log`; `withFiles: false` for stdout only (the caller brought its own logger).
 * @throws InvalidConfigError naming LOG_PATH when the file cannot be created there
 */
export async function openConfiguredLog(name: string, fileName: string, config: Pick<SkaldsConfig, 'log' | 'sources'>, withFiles = true): Promise<ProcessLog> {
  const settings = withFiles ? logFileSettings(config) : undefined
  try {
    return await openProcessLog(name, config.log.level, fileName, settings)
  } catch (error) {
    throw new InvalidConfigError('LOG_PATH', `cannot write a log file in ${JSON.stringify(settings?.dir)}: ${(error as Error).message}`, config.sources.LOG_PATH ?? 'environment', { cause: error })
  }
}

/** An open log file: numbered `<name>.<n>.log`, rolled at the size. */
export interface LogFileStream {
  /** the file written now */
  readonly file: string
  write(line: string): boolean
  /** flushes and closes */
  close(): Promise<void>
}

/** What pino-roll returns (a SonicBoom): the members used here. */
interface SonicBoomLike {
  readonly file: string
  write(data: string): boolean
  end(): void
  once(event: 'ready' | 'close' | 'error', listener: (error?: Error) => void): void
  on(event: 'error', listener: (error: Error) => void): void
  off(event: 'ready' | 'error', listener: (error?: Error) => void): void
  readonly destroyed?: boolean
  /** -1 until the file is open */
  readonly fd: number
}
type PinoRoll = (options: { file: string; size: string; mkdir: boolean }) => Promise<SonicBoomLike>

/** A file name from an id that may hold any character (Skald ids, task ids): letters, digits, `_ . -` kept. */
export function logFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200) || '_'
}

/** How often a failing log file is reported at most, ms: a full disk must not flood stderr. */
const ERROR_REPORT_EVERY_MS = 60_000

/**
 * Opens `<dir>/<name>.<n>.log`, continuing after the highest number already there; pino-roll (loaded on the first
 * call: a process without log files never imports it) rolls it at `rotationMb`. A write or roll that fails later
 * (disk full, the directory gone) never throws into the process: `onError` hears of it, at most once a minute
 * (default: one JSON line on stderr), and the lines meanwhile are lost to the file only.
 * @throws the open's error when the file cannot be created
 */
export async function openLogFile(settings: Pick<LogFileSettings, 'dir' | 'rotationMb'>, name: string, onError: (error: Error) => void = reportToStderr): Promise<LogFileStream> {
  const { default: roll } = (await import('pino-roll')) as { default: PinoRoll }
  const stream = await roll({ file: join(settings.dir, logFileName(name)), size: `${Math.max(1, Math.round(settings.rotationMb * 1024))}k`, mkdir: true })
  await new Promise<void>((resolve, reject) => {
    // SonicBoom opens its file asynchronously: an unwritable directory fails here, not on the first line.
    if (stream.fd >= 0) return resolve()
    const ready = (): void => {
      stream.off('error', failed)
      resolve()
    }
    const failed = (error?: Error): void => {
      stream.off('ready', ready)
      reject(error ?? new Error('log file: open failed'))
    }
    stream.once('ready', ready)
    stream.once('error', failed)
  })
  let reportedAt = -Infinity
  stream.on('error', (error) => {
    if (Date.now() - reportedAt < ERROR_REPORT_EVERY_MS) return
    reportedAt = Date.now()
    onError(error)
  })
  return {
    get file() {
      return stream.file
    },
    write: (line) => stream.write(line),
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.destroyed) return resolve()
        stream.once('close', () => resolve())
        stream.end()
      }),
  }
}

/** The process's logger with its log file, and how to let go of both. */
export interface ProcessLog {
  logger: Logger
  /** the file written now; undefined without a log directory */
  readonly file: string | undefined
  /** other files this process writes in the directory (a Skald's per-task files), kept out of the retention sweep */
  holdOpen(files: () => Iterable<string>): void
  /** stops the retention sweep, flushes and closes the file */
  close(): Promise<void>
}

/**
 * A process's logger: pino at `level` to stdout and, when `settings` name a directory, to `<dir>/<fileName>.<n>.log`
 * as well, with the retention sweep started. Without settings it is createLogger's stdout logger.
 */
export async function openProcessLog(name: string, level: string, fileName: string, settings: LogFileSettings | undefined, sweepEveryMs = 3_600_000): Promise<ProcessLog> {
  const lvl = level.toLowerCase()
  if (!settings) return { logger: createLogger(name, lvl), file: undefined, holdOpen: () => {}, close: () => Promise.resolve() }
  const file = await openLogFile(settings, fileName)
  const logger = pino({ name, level: lvl }, pino.multistream([{ level: lvl as pino.Level, stream: pino.destination(1) }, { level: lvl as pino.Level, stream: file }]))
  const held: Array<() => Iterable<string>> = [() => [file.file]]
  const retention = new LogRetention(settings.dir, settings.retentionMs, () => held.flatMap((f) => [...f()]), logger)
  retention.start(sweepEveryMs)
  return {
    logger,
    get file() {
      return file.file
    },
    holdOpen: (files) => void held.push(files),
    close: async () => {
      retention.stop()
      await file.close()
    },
  }
}

/**
 * Removes the `.log` files of a directory that nothing wrote to for `retentionMs` (their mtime), except the files
 * this process holds open. Several processes may share the directory and sweep it: a file already gone is fine.
 */
export class LogRetention {
  readonly #dir: string
  readonly #retentionMs: number
  readonly #inUse: () => Iterable<string>
  readonly #log: Logger
  #timer: NodeJS.Timeout | undefined

  constructor(dir: string, retentionMs: number, inUse: () => Iterable<string>, log: Logger) {
    this.#dir = dir
    this.#retentionMs = retentionMs
    this.#inUse = inUse
    this.#log = log
  }

  /** Sweeps now, then every `everyMs` (the timer does not keep the process alive). */
  start(everyMs: number): void {
    const run = (): void => void this.sweep().catch((error: unknown) => this.#log.warn({ err: error, dir: this.#dir }, 'log retention: sweep failed'))
    run()
    this.#timer = setInterval(run, everyMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Removes what is past the retention; resolves with the paths removed. */
  async sweep(now = Date.now()): Promise<string[]> {
    const entries = await readdir(this.#dir, { withFileTypes: true })
    // Asked after the listing, not before: a file held open while the directory was read is in the answer.
    const inUse = new Set(this.#inUse())
    const removed: string[] = []
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.log')) continue
      const path = join(this.#dir, entry.name)
      if (inUse.has(path)) continue
      try {
        if (now - (await stat(path)).mtimeMs < this.#retentionMs) continue
        await unlink(path)
        removed.push(path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
    if (removed.length > 0) this.#log.info({ dir: this.#dir, removed: removed.length }, 'log retention: removed old log files')
    return removed
  }
}

function reportToStderr(error: Error): void {
  process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), name: 'skalds:log-files', msg: `log file: ${error.message}; its lines are lost to the file (stdout still has them)` })}\n`)
}
