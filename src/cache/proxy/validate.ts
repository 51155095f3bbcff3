// Argument checks of the proxy: every bad input is refused with a clear error before anything is sent.
import { toMs, type Duration } from '../../config/duration.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'
import { ValueTooLargeError } from '../errors.ts'

/** Default `maxValueBytes`: 64 MiB, well under Redis' 512 MiB bulk-string limit and its proto-max-bulk-len. */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024

export function requireKey(key: unknown, name = 'key'): string {
  if (typeof key !== 'string') throw new InvalidArgumentError(`${name}: must be a string, got ${typeof key}`)
  if (key === '') throw new InvalidArgumentError(`${name}: must not be empty`)
  return key
}

export function requireField(field: unknown, name = 'field'): string {
  if (typeof field !== 'string') throw new InvalidArgumentError(`${name}: must be a string, got ${typeof field}`)
  return field
}

/** A value to store: a string (callers serialize; numbers as decimal strings for Python readers) within the limit. */
export function requireValue(value: unknown, name: string, maxBytes: number): string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`${name}: must be a string (serialize it first, e.g. String(n) or JSON.stringify), got ${typeof value}`)
  }
  // Cheap upper bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (value.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(value, 'utf8')
    if (bytes > maxBytes) throw new ValueTooLargeError(`${name}: ${bytes} bytes is over the limit of ${maxBytes} bytes (maxValueBytes); nothing was written`)
  }
  return value
}

/** A TTL option as whole milliseconds; undefined or 0 = no TTL. */
export function ttlMs(ttl: Duration | undefined, name = 'ttl'): number {
  if (ttl === undefined) return 0
  const ms = toMs(ttl, name)
  return ms === 0 ? 0 : Math.max(1, Math.ceil(ms))
}

export function requireIndex(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new InvalidArgumentError(`${name}: must be an integer, got ${String(value)}`)
  return value
}

/**
 * A SCAN MATCH glob as the caller wrote it. An unpaired `[` or a trailing `\` almost always means raw input (an id
 * holding `[SP]`, say) was pasted into a pattern: refuse it and point at `escapeGlob` / `scanKeysByPrefix`.
 */
export function requirePattern(pattern: unknown, name = 'pattern'): string {
  if (typeof pattern !== 'string' || pattern === '') throw new InvalidArgumentError(`${name}: must be a non-empty glob pattern`)
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '\\') {
      if (i + 1 >= pattern.length) {
        throw new InvalidArgumentError(`${name}: ${JSON.stringify(pattern)} ends with an unpaired "\\"; escape literal input with escapeGlob() or use scanKeysByPrefix()`)
      }
      i++
    } else if (ch === '[') {
      let j = i + 1
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1
      if (j >= pattern.length) {
        throw new InvalidArgumentError(
          `${name}: ${JSON.stringify(pattern)} has an unclosed "[" at position ${i}; escape literal input with escapeGlob() or use scanKeysByPrefix()`,
        )
      }
      i = j
    }
  }
  return pattern
}
