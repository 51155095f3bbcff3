// A Logger that records what it is given, so tests can count warnings.
import type { Logger } from '../../src/config/logger.ts'

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  msg: string
}

export function capturingLogger(lines: LogLine[]): Logger {
  const log = (level: LogLine['level']) => (objOrMsg: object | string, msg?: string) => {
    lines.push({ level, msg: typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '') })
  }
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger }
  return logger
}

/** The facade's one-per-outage warning. */
export function outageWarnings(lines: LogLine[]): LogLine[] {
  return lines.filter((line) => line.level === 'warn' && line.msg.startsWith('cache store unavailable'))
}
