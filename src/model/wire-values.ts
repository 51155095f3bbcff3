// Value coercions shared by the task and event schemas: what the Python peers accept, we accept.
import { z } from 'zod'

/**
 * An epoch-milliseconds integer as pydantic's lax `int` reads it: a JS number (an integral double is
 * fine), a bigint (BSON Int64 turned into bigint) or a decimal integer string like "1724131200000".
 */
export const epochMsStrict = z
  .union([z.number(), z.bigint(), z.string().regex(/^-?\d+$/, 'a decimal integer string')])
  .transform((value, ctx) => {
    const n = typeof value === 'number' ? value : Number(value)
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `expected an integer number of milliseconds, got ${String(value)}` })
      return z.NEVER
    }
    return n
  })

/** Like {@link epochMsStrict} but a finite fractional double is truncated instead of rejected (stored documents). */
export const epochMsLenient = z
  .union([z.number(), z.bigint(), z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal number string')])
  .transform((value, ctx) => {
    const n = typeof value === 'number' ? value : Number(value)
    const t = Math.trunc(n)
    if (!Number.isSafeInteger(t)) {
      ctx.addIssue({ code: 'custom', message: `expected a number of milliseconds, got ${String(value)}` })
      return z.NEVER
    }
    return t
  })

/** An integer as pydantic's lax `int` reads it (integral number, bigint or decimal integer string). */
export const laxInt = epochMsStrict

/** The first issue of a failed zod parse as [dotted path, message]. */
export function firstIssue(error: z.ZodError): [string, string] {
  const issue = error.issues[0]
  if (!issue) return ['', 'invalid']
  return [issue.path.map(String).join('.'), issue.message]
}

/** A plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Copies `input`, renaming each snake_case key to its camelCase spelling when the camelCase one is absent. */
export function withCamelAliases(input: Record<string, unknown>, aliases: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input }
  for (const [snake, camel] of Object.entries(aliases)) {
    if (snake in out) {
      if (!(camel in out)) out[camel] = out[snake]
      delete out[snake]
    }
  }
  return out
}
