// A task's runtime state, TS-only: ownership epoch (fencing), attempts and retry limit, checkpoint, last error,
// pause time. Stored as a nested `runtime` beside the Python fields; Python's model ignores unknown fields
// (wire §3.2), so a Python reader sees its task unchanged and a Python `$set` leaves `runtime` in place.
import { z } from 'zod'
import { TaskValidationError } from './errors.ts'
import { epochMsLenient, epochMsStrict, firstIssue, isPlainObject, laxInt } from './wire-values.ts'

/** Largest checkpoint, in bytes of its JSON text: it travels with every read of the task. */
export const MAX_CHECKPOINT_BYTES = 64 * 1024
/** Longer error texts are cut to this many characters (with a trailing `…`): recording a failure must not fail. */
export const MAX_LAST_ERROR_CHARS = 4096

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
/** A JSON object, e.g. a JSON Schema document. */
export type JsonObject = { [key: string]: JsonValue }

export interface TaskRuntime {
  /** ownership fencing token: raised by whoever assigns the task; a node acts only while its epoch is current. Default 0 */
  epoch: number
  /** runs started so far (the first run is attempt 1). Default 0 */
  attempt: number
  /** retries allowed after the first run; null = the worker class's default */
  maxRetries: number | null
  /** the worker's last `checkpoint(state)`, JSON, at most {@link MAX_CHECKPOINT_BYTES}; null = none */
  checkpoint: JsonValue | null
  /** why the last run failed (or an update was rejected); null = no failure recorded */
  lastError: string | null
  /** epoch ms the task was paused; null when not paused */
  pausedAt: number | null
  /** epoch ms before which a dispatcher does not start it (a retry's backoff); null = at once */
  notBefore: number | null
}

export type TaskRuntimePatch = Partial<TaskRuntime>

export function defaultTaskRuntime(): TaskRuntime {
  return { epoch: 0, attempt: 0, maxRetries: null, checkpoint: null, lastError: null, pausedAt: null, notBefore: null }
}

const utf8 = new TextEncoder()
const count = laxInt.pipe(z.number().int().min(0, 'must be ≥ 0'))
const checkpoint = z
  .custom<JsonValue>()
  .nullable()
  .superRefine((value, ctx) => {
    const problem = jsonProblem(value, '')
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: `must be JSON: ${problem}` })
      return
    }
    const bytes = utf8.encode(JSON.stringify(value)).length
    if (bytes > MAX_CHECKPOINT_BYTES) ctx.addIssue({ code: 'custom', message: `is ${bytes} bytes as JSON, more than ${MAX_CHECKPOINT_BYTES}` })
  })

/** Why `value` would not survive a JSON round trip unchanged, naming where; undefined when it would. */
function jsonProblem(value: unknown, at: string, depth = 0): string | undefined {
  const where = at || '(root)'
  // Also stops a cyclic object before the stack does.
  if (depth > 64) return `${where} is nested more than 64 levels deep`
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${where} is ${String(value)}`
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonProblem(value[i], `${at}[${i}]`, depth + 1)
      if (p !== undefined) return p
    }
    return undefined
  }
  if (isPlainObject(value) && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    for (const [k, v] of Object.entries(value)) {
      const p = jsonProblem(v, at ? `${at}.${k}` : k, depth + 1)
      if (p !== undefined) return p
    }
    return undefined
  }
  return `${where} is ${value instanceof Object ? value.constructor.name : typeof value}, not a JSON value`
}
const lastError = z
  .string()
  .nullable()
  .transform((v) => (v !== null && v.length > MAX_LAST_ERROR_CHARS ? `${v.slice(0, MAX_LAST_ERROR_CHARS - 1)}…` : v))

const fields = {
  epoch: count,
  attempt: count,
  maxRetries: count.nullable(),
  checkpoint,
  lastError,
  pausedAt: epochMsStrict.nullable(),
  notBefore: epochMsStrict.nullable(),
}
const patchSchema = z.strictObject(fields).partial()
// Stored values: a missing field reads as its default; timestamps may be doubles.
const storedSchema = z.object({
  epoch: count.nullish().transform((v) => v ?? 0),
  attempt: count.nullish().transform((v) => v ?? 0),
  maxRetries: count.nullish().transform((v) => v ?? null),
  checkpoint: z.custom<JsonValue>().nullish().transform((v) => v ?? null),
  lastError: z.string().nullish().transform((v) => v ?? null),
  pausedAt: epochMsLenient.nullish().transform((v) => v ?? null),
  notBefore: epochMsLenient.nullish().transform((v) => v ?? null),
})

/**
 * Validates a runtime change (any subset of the fields).
 * @throws TaskValidationError naming `runtime.<field>`
 */
export function parseTaskRuntimePatch(value: unknown, what = 'patch'): TaskRuntimePatch {
  if (!isPlainObject(value)) throw new TaskValidationError(what, 'runtime', 'expected a JSON object')
  const r = patchSchema.safeParse(value)
  if (!r.success) {
    const [field, reason] = firstIssue(r.error)
    const issue = r.error.issues[0]
    const name = issue?.code === 'unrecognized_keys' ? issue.keys[0] : field
    throw new TaskValidationError(what, `runtime${name ? `.${name}` : ''}`, issue?.code === 'unrecognized_keys' ? `unknown field (known: ${Object.keys(fields).join(', ')})` : reason)
  }
  const out: TaskRuntimePatch = {}
  for (const [k, v] of Object.entries(r.data)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}

/**
 * Reads a stored runtime: absent or null (a Python-written task) gives the defaults, missing fields theirs.
 * @throws TaskValidationError naming `runtime.<field>` for a value of the wrong type
 */
export function readStoredRuntime(value: unknown, what = 'stored task'): TaskRuntime {
  if (value === undefined || value === null) return defaultTaskRuntime()
  if (!isPlainObject(value)) throw new TaskValidationError(what, 'runtime', 'expected an object')
  const r = storedSchema.safeParse(value)
  if (!r.success) {
    const [field, reason] = firstIssue(r.error)
    throw new TaskValidationError(what, `runtime.${field}`, reason)
  }
  return r.data
}

/** True when the runtime carries nothing beyond the defaults (the stores then write no `runtime` field). */
export function isDefaultRuntime(runtime: TaskRuntime): boolean {
  const d = defaultTaskRuntime()
  return (Object.keys(d) as (keyof TaskRuntime)[]).every((k) => runtime[k] === d[k])
}
