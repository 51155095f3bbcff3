// Building blocks of the option schemas. Every component validates its options with zod through these and
// `parseOptions`, so one kind of bad input gets one message shape (`[where: ]field.path: reason`) and the
// component's own error class everywhere; only a malformed duration is an InvalidDurationError, as with toMs.
import { z } from 'zod'
import { parseDuration, type Duration } from './duration.ts'
import { InvalidDurationError } from './errors.ts'

/** How a value is shown in a message: strings quoted, everything else as String() would. */
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** Marks an issue as a malformed duration (parseOptions throws InvalidDurationError for it). */
const DURATION_PARAMS = { skaldsDuration: true }

export interface DurationBounds {
  /** Smallest ms accepted (inclusive). Default 0. */
  min?: number
  /** Refuse 0 (and anything not above it). */
  positive?: boolean
  /** Largest ms accepted (inclusive). */
  max?: number
  /** Refuse fractions of a millisecond (engines that take whole ms: Redis PX and BLOCK, Kafka). */
  whole?: boolean
}

/** A Duration (ms as a number, or '500ms', '30s', '5m', …) resolved to a number of ms. */
export function duration(bounds: DurationBounds = {}): z.ZodType<number, Duration> {
  return z.custom<Duration>(() => true).transform((value, ctx) => {
    const parsed = parseDuration(value)
    if ('reason' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.reason, params: DURATION_PARAMS })
      return z.NEVER
    }
    const { ms } = parsed
    const tooSmall = bounds.positive === true ? ms <= 0 : bounds.min !== undefined && ms < bounds.min
    if (tooSmall) {
      ctx.addIssue({ code: 'custom', message: bounds.positive === true && bounds.min === undefined ? `must be positive, got ${show(value)}` : `must be at least ${bounds.min ?? 1} ms, got ${show(value)}` })
    } else if (bounds.whole === true && !Number.isSafeInteger(ms)) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number of ms, got ${show(value)}` })
    } else if (bounds.max !== undefined && ms > bounds.max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${bounds.max} ms, got ${show(value)}` })
    }
    return ms
  })
}

/**
 * A Duration in ms that must pass `ok`, refused as `${reason}, got ${ms}` (for messages that state the rule in ms,
 * e.g. `must be a whole number of ms >= 1`). A malformed duration is reported as by duration().
 */
export function durationThat(ok: (ms: number) => boolean, reason: string): z.ZodType<number, Duration> {
  return duration().refine(ok, { error: (issue) => `${reason}, got ${show(issue.input)}` })
}

/** A safe integer from `min` (inclusive), optionally up to `max`. */
export function integer(min: number, max?: number): z.ZodType<number, number> {
  const range = max === undefined ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`
  return z.custom<number>(
    (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && (max === undefined || value <= max),
    { error: (issue) => `must be ${range}, got ${show(issue.input)}` },
  )
}

/** A finite number within [min, max] (inclusive unless `exclusive`). */
export function number(min: number, max: number, exclusive = false): z.ZodType<number, number> {
  return z.custom<number>(
    (value) => typeof value === 'number' && Number.isFinite(value) && (exclusive ? value > min && value < max : value >= min && value <= max),
    { error: (issue) => `must be a number ${exclusive ? 'strictly between' : 'from'} ${min} ${exclusive ? 'and' : 'to'} ${max}, got ${show(issue.input)}` },
  )
}

/** A non-empty string. */
export function nonEmptyString(): z.ZodType<string, string> {
  return z.custom<string>((value) => typeof value === 'string' && value.length > 0, {
    error: (issue) => `must be a non-empty string, got ${issue.input === '' ? 'an empty string' : typeof issue.input}`,
  })
}

/** One of fixed string values. */
export function oneOf<const T extends readonly string[]>(values: T): z.ZodType<T[number], T[number]> {
  return z.custom<T[number]>((value) => typeof value === 'string' && values.includes(value), {
    error: (issue) => `must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(issue.input)}`,
  })
}

/** A boolean. */
export function boolean(): z.ZodType<boolean, boolean> {
  return z.custom<boolean>((value) => typeof value === 'boolean', { error: (issue) => `must be true or false, got ${show(issue.input)}` })
}

/** A function (a callback or a method of an injected object). */
export function fn<T>(what = 'a function'): z.ZodType<T, T> {
  return z.custom<T>((value) => typeof value === 'function', { error: () => `must be ${what}` })
}

/** Anything (loggers, TLS options, clients…): carried through unchecked, typed as given. */
export function opaque<T>(): z.ZodType<T, T> {
  return z.custom<T>(() => true)
}

/**
 * A renamed option still accepted under its old name (`commandTimeoutMs` for `commandTimeout`): the resolved value
 * is the new one, or else the old one. Both given with different values is refused, naming both.
 */
export function renamed<T extends Record<string, unknown>>(
  data: T,
  ctx: { addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[] }): void },
  name: keyof T & string,
  legacy: keyof T & string,
  path: PropertyKey[] = [],
): void {
  if (data[name] !== undefined && data[legacy] !== undefined && data[name] !== data[legacy]) {
    ctx.addIssue({ code: 'custom', message: `also given as ${legacy} (its deprecated name) with another value; give only ${name}`, path: [...path, name] })
  }
}

/** `field.path` of an issue, with array indexes in brackets. */
function pathOf(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`
  return out
}

type Issue = z.core.$ZodIssue

/**
 * The issue to report. For a union (`false | { … }`) whose every branch failed, the branch that got furthest: one
 * that failed inside the value rather than on its type, so `l1.maxEntries: …` is reported instead of "invalid input".
 */
function innermost(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue
  const depth = (branch: readonly Issue[]) => (branch[0] === undefined ? -1 : branch[0].path.length + (branch[0].code === 'invalid_type' || branch[0].code === 'invalid_value' ? 0 : 0.5))
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a))
  const inner = best[0]
  if (inner === undefined || depth(best) < 0.5) return { ...issue, message: unionMessage(issue) }
  return innermost({ ...inner, path: [...issue.path, ...inner.path] })
}

/** "must be false or an object", from the branches' expectations. */
function unionMessage(issue: Issue & { code: 'invalid_union' }): string {
  const wanted = issue.errors.map((branch) => {
    const first = branch[0]
    if (first?.code === 'invalid_type') return `${/^[aeiou]/.test(first.expected) ? 'an' : 'a'} ${first.expected}`
    if (first?.code === 'invalid_value') return first.values.map((v) => show(v)).join(' or ')
    return first?.message ?? 'valid'
  })
  return `must be ${wanted.join(' or ')}, got ${issue.input === null ? 'null' : typeof issue.input}`
}

/**
 * Parses `input` with `schema`. The first problem is thrown as `error(message)` (the component's argument error
 * class), or as InvalidDurationError when it is a malformed duration. `where` prefixes the message
 * (e.g. `KafkaBus`); `root` names the input when it is not an object; `join` goes between `where` and the field
 * (`' '` keeps older messages such as `lock ttl: …`).
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  error: (message: string) => Error,
  where?: string,
  root = 'options',
  join = ': ',
): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true })
  if (result.success) return result.data
  const issue = innermost(result.error.issues[0]!)
  const path = pathOf(issue.path)
  const message = `${where === undefined ? '' : `${where}${join}`}${path === '' ? root : path}: ${issue.message}`
  if (issue.code === 'custom' && (issue.params as Record<string, unknown> | undefined)?.skaldsDuration === true) throw new InvalidDurationError(message)
  throw error(message)
}

/** An options object (absent = `{}`), keeping keys the schema does not name. */
export function optionsObject<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.looseObject(shape, { error: (issue) => `must be an object, got ${issue.input === null ? 'null' : typeof issue.input}` })
}
