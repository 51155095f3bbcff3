// Output for people and for scripts: aligned tables and `key  value` blocks on stdout, or JSON with `--json`.

/** Prints `value` as JSON (2-space indent) on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** A cell as text: dates as ISO strings, objects as compact JSON, null/undefined as `-`. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString()
  return JSON.stringify(value) ?? typeof value
}

/** Columns padded to their widest cell; the last column is never padded, long cells are cut at `max`. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>, max = 48): string {
  const text = rows.map((row) => row.map((value) => clip(cell(value), max)))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]?.length ?? 0)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...text.map(line)].join('\n')
}

/** `key  value` lines, keys aligned. */
export function keyValues(entries: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(...entries.map(([k]) => k.length))
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n')
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** An epoch-ms or ISO time as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`. */
export function time(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  const date = new Date(typeof value === 'number' ? value : cell(value))
  return Number.isNaN(date.getTime()) ? cell(value) : date.toISOString().replace('T', ' ').slice(0, 19)
}

/** The `msg` of a pino JSON line, or the line as it is. */
export function messageOf(line: string): string {
  try {
    const parsed = JSON.parse(line) as unknown
    if (typeof parsed === 'object' && parsed !== null && 'msg' in parsed && typeof parsed.msg === 'string') return parsed.msg
  } catch {
    // not JSON: printed as it is
  }
  return line
}

/** A URL without its password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
}
