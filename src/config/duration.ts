// Durations in options: a number of milliseconds, or a string such as `500ms`, `30s`, `5m`, `2h`, `1d`.
import { InvalidDurationError } from './errors.ts'

export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Milliseconds of a Duration, or why it is not one (the option schemas report the reason under the field path). */
export function parseDuration(value: unknown): { ms: number } | { reason: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { reason: `must be a non-negative number of ms, got ${value}` }
    return { ms: value }
  }
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(String(value).trim())
  if (!match) return { reason: `${JSON.stringify(value)} is not a duration (use ms as a number, or '500ms', '30s', '5m', '2h', '1d')` }
  return { ms: Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]) }
}

/** Milliseconds of a Duration; `field` names the option in the error for bad input. */
export function toMs(value: Duration, field: string): number {
  const parsed = parseDuration(value)
  if ('reason' in parsed) throw new InvalidDurationError(`${field}: ${parsed.reason}`)
  return parsed.ms
}

/** Like toMs, for optional options. */
export function optionalMs(value: Duration | undefined, field: string): number | undefined {
  return value === undefined ? undefined : toMs(value, field)
}
