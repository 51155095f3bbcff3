// The logging seam: a pino-compatible subset, so callers can pass pino, a child of it, or anything shaped alike.
import { pino } from 'pino'

export type LogFn = (objOrMsg: object | string, msg?: string) => void

export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: Record<string, unknown>): Logger
}

/**
 * The default logger: pino at `level`, else LOG_LEVEL (Skalds' variable), `warn` when unset so a library stays
 * quiet. A process that loaded its configuration passes `config.log.level` (which `.env` may have set).
 */
export function createLogger(name = 'skalds', level?: string): Logger {
  return pino({ name, level: (level ?? process.env.LOG_LEVEL ?? 'warn').toLowerCase() })
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}
