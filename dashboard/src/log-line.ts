// A run's log line as a person reads it. Workers log through pino, so most lines are `[logger] {json}`: shown as
// `12:04:05 info  message  key=value …` (the task's own id, class and pino's bookkeeping left out). Anything else
// (stdout, stderr, a line that is not JSON) is shown as it came.

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'taskId', 'className', 'name', 'msg', 'v'])

export function readableLogLine(line: string): string {
  const match = /^\[(\w+)\] (\{.*\})$/.exec(line)
  if (!match) return line
  let record: Record<string, unknown>
  try {
    record = JSON.parse(match[2]!) as Record<string, unknown>
  } catch {
    return line
  }
  if (typeof record.msg !== 'string') return line
  const at = typeof record.time === 'number' ? new Date(record.time).toLocaleTimeString([], { hour12: false }) : ''
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : typeof record.level === 'string' ? record.level : ''
  const extra = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  return [at, level.padEnd(5), record.msg, ...extra].filter((part) => part !== '').join('  ')
}
