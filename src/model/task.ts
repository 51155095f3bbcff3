// The Skalds Task (wire §3.2, §4.2): schema, TypeScript types, defaults, and the exact camelCase wire shape.
import { z } from 'zod'
import { LIFECYCLE_STATUSES, MODES, ModeEnum, TaskLifecycleStatus } from './enums.ts'
import { TaskValidationError } from './errors.ts'
import { defaultTaskRuntime, parseTaskRuntimePatch, readStoredRuntime, type TaskRuntime, type TaskRuntimePatch } from './task-runtime.ts'
import { epochMsLenient, epochMsStrict, firstIssue, isPlainObject, laxInt, withCamelAliases } from './wire-values.ts'

export {
  MAX_CHECKPOINT_BYTES,
  MAX_LAST_ERROR_CHARS,
  defaultTaskRuntime,
  isDefaultRuntime,
  parseTaskRuntimePatch,
  readStoredRuntime,
  type JsonValue,
  type TaskRuntime,
  type TaskRuntimePatch,
} from './task-runtime.ts'

/** Default deadline: creation time + 7 days, as Python computes it. */
export const DEFAULT_DEADLINE_MS = 7 * 24 * 60 * 60 * 1000
export const PRIORITY_MIN = 0
export const PRIORITY_MAX = 10

/** A task's attachments: a JSON object (the worker's parameters), or null when it has none. */
export type Attachments = Record<string, unknown>

/** A validated task. Field names are the camelCase wire names. */
export interface Task {
  /** unique id, non-empty */
  id: string
  /** worker class name, exact and case-sensitive */
  className: string
  /** where the task came from (`YAML`, `API`, …); required by the Python model */
  source: string
  name: string | null
  description: string | null
  /** id of the Skald that should run it (the routing key); null = unassigned */
  executor: string | null
  /** stored, never used by Python */
  dependencies: string[] | null
  /** default `Passive` */
  mode: ModeEnum
  /** default true; only meaningful in single_process mode */
  isPersistent: boolean
  /** epoch ms; default now */
  createDateTime: number
  /** epoch ms; default now; also the store's compare-and-set token */
  updateDateTime: number
  /** epoch ms; default createDateTime + 7 days; never enforced */
  deadlineDateTime: number
  /** default `Created` */
  lifecycleStatus: TaskLifecycleStatus
  /** 0 (lowest) ..10 (highest); default 0 */
  priority: number
  /** the worker's parameters; null when there are none (an empty object is stored as null) */
  attachments: Attachments | null
  /** TS-only runtime state (ownership epoch, attempts, checkpoint, last error); not part of the Python wire shape */
  runtime: TaskRuntime
}

/** What a caller gives to create a task: `id`, `className` and `source` are required, the rest defaults. */
export interface TaskInput {
  id: string
  className: string
  source: string
  name?: string | null
  description?: string | null
  executor?: string | null
  dependencies?: string[] | null
  mode?: ModeEnum
  isPersistent?: boolean
  createDateTime?: number
  updateDateTime?: number
  deadlineDateTime?: number
  lifecycleStatus?: TaskLifecycleStatus
  priority?: number
  attachments?: Attachments | null
  /** runtime fields to start with; the rest default */
  runtime?: TaskRuntimePatch
}

/** The fields an update may change. `id` and `createDateTime` never change; `updateDateTime` is set by the store. */
export const PATCHABLE_FIELDS = [
  'className',
  'source',
  'name',
  'description',
  'executor',
  'dependencies',
  'mode',
  'isPersistent',
  'deadlineDateTime',
  'lifecycleStatus',
  'priority',
  'attachments',
  'runtime',
] as const
export type PatchableField = (typeof PATCHABLE_FIELDS)[number]
/** `runtime` is merged field by field: a patch names only the runtime fields it changes. */
export type TaskPatch = Partial<Pick<Task, Exclude<PatchableField, 'runtime'>>> & { runtime?: TaskRuntimePatch }

/** Python attribute names accepted as input spellings (pydantic `populate_by_name`). */
const SNAKE_ALIASES: Readonly<Record<string, string>> = {
  class_name: 'className',
  is_persistent: 'isPersistent',
  create_date_time: 'createDateTime',
  update_date_time: 'updateDateTime',
  deadline_date_time: 'deadlineDateTime',
  lifecycle_status: 'lifecycleStatus',
}

const nullableText = z.string().nullable()
const attachments = z
  .record(z.string(), z.unknown())
  .nullable()
  .transform((v) => (v === null || Object.keys(v).length === 0 ? null : v))
const priority = laxInt.pipe(z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX))

const fieldSchemas = {
  id: z.string().min(1, 'must be a non-empty string'),
  className: z.string().min(1, 'must be a non-empty string'),
  source: z.string(),
  name: nullableText,
  description: nullableText,
  executor: nullableText,
  dependencies: z.array(z.string()).nullable(),
  mode: z.enum(MODES as [ModeEnum, ...ModeEnum[]]),
  isPersistent: z.boolean(),
  lifecycleStatus: z.enum(LIFECYCLE_STATUSES as [TaskLifecycleStatus, ...TaskLifecycleStatus[]]),
  priority,
  attachments,
}

const strictSchema = z.object({
  ...fieldSchemas,
  name: nullableText.default(null),
  description: nullableText.default(null),
  executor: nullableText.default(null),
  dependencies: fieldSchemas.dependencies.default(null),
  mode: fieldSchemas.mode.default(ModeEnum.Passive),
  isPersistent: fieldSchemas.isPersistent.default(true),
  lifecycleStatus: fieldSchemas.lifecycleStatus.default(TaskLifecycleStatus.Created),
  priority: priority.default(0),
  attachments: attachments.default(null),
  createDateTime: epochMsStrict.optional(),
  updateDateTime: epochMsStrict.optional(),
  deadlineDateTime: epochMsStrict.optional(),
})

/** Stored documents: missing or null fields take neutral values, doubles are truncated, priority is clamped. */
const storedSchema = strictSchema.extend({
  source: z.string().nullish().transform((v) => v ?? ''),
  name: nullableText.optional().transform((v) => v ?? null),
  description: nullableText.optional().transform((v) => v ?? null),
  executor: nullableText.optional().transform((v) => v ?? null),
  dependencies: fieldSchemas.dependencies.optional().transform((v) => v ?? null),
  mode: fieldSchemas.mode.nullish().transform((v) => v ?? ModeEnum.Passive),
  isPersistent: fieldSchemas.isPersistent.nullish().transform((v) => v ?? true),
  lifecycleStatus: fieldSchemas.lifecycleStatus.nullish().transform((v) => v ?? TaskLifecycleStatus.Created),
  priority: epochMsLenient
    .nullish()
    .transform((v) => Math.min(PRIORITY_MAX, Math.max(PRIORITY_MIN, v ?? 0))),
  attachments: attachments.optional().transform((v) => v ?? null),
  createDateTime: epochMsLenient.nullish(),
  updateDateTime: epochMsLenient.nullish(),
  deadlineDateTime: epochMsLenient.nullish(),
})

export interface ParseTaskOptions {
  /** the clock for defaults, epoch ms; default `Date.now()` */
  now?: number
}

/**
 * Validates a new task and fills in the defaults: `mode` Passive, `lifecycleStatus` Created, `priority` 0,
 * `isPersistent` true, `createDateTime`/`updateDateTime` now, `deadlineDateTime` createDateTime + 7 days,
 * nullable fields null. Accepts camelCase and Python snake_case keys; unknown keys are dropped (as pydantic does).
 * @throws TaskValidationError naming the first invalid field
 */
export function parseTask(input: unknown, options: ParseTaskOptions = {}): Task {
  if (!isPlainObject(input)) throw new TaskValidationError('task', '(root)', 'expected a JSON object')
  const { runtime: runtimeInput, ...rest } = input
  const result = strictSchema.safeParse(withCamelAliases(rest, SNAKE_ALIASES))
  if (!result.success) {
    const [field, reason] = firstIssue(result.error)
    throw new TaskValidationError('task', field || '(root)', reason)
  }
  const runtime = { ...defaultTaskRuntime(), ...(runtimeInput === undefined ? {} : parseTaskRuntimePatch(runtimeInput, 'task')) }
  const v = result.data
  const now = options.now ?? Date.now()
  const createDateTime = v.createDateTime ?? now
  return {
    id: v.id,
    className: v.className,
    source: v.source,
    name: v.name,
    description: v.description,
    executor: v.executor,
    dependencies: v.dependencies,
    mode: v.mode,
    isPersistent: v.isPersistent,
    createDateTime,
    updateDateTime: v.updateDateTime ?? createDateTime,
    deadlineDateTime: v.deadlineDateTime ?? createDateTime + DEFAULT_DEADLINE_MS,
    lifecycleStatus: v.lifecycleStatus,
    priority: v.priority,
    attachments: v.attachments,
    runtime,
  }
}

/**
 * Reads a task as stored by any writer (Python, TS, a hand-made document). Tolerant where Python is lenient
 * or where other writers differ: missing `source` reads as "", missing timestamps as 0, doubles are truncated,
 * priority is clamped into 0..10, missing optional fields read as their defaults. Still strict on `id`,
 * `className` and the enum strings, which no reader could act on.
 * @throws TaskValidationError naming the first invalid field
 */
export function readStoredTask(doc: unknown): Task {
  if (!isPlainObject(doc)) throw new TaskValidationError('stored task', '(root)', 'expected an object')
  const { runtime: storedRuntime, ...rest } = doc
  const id = typeof doc.id === 'string' ? ` ${JSON.stringify(doc.id)}` : ''
  const result = storedSchema.safeParse(withCamelAliases(rest, SNAKE_ALIASES))
  if (!result.success) {
    const [field, reason] = firstIssue(result.error)
    throw new TaskValidationError(`stored task${id}`, field || '(root)', reason)
  }
  const runtime = readStoredRuntime(storedRuntime, `stored task${id}`)
  const v = result.data
  return {
    id: v.id,
    className: v.className,
    source: v.source,
    name: v.name,
    description: v.description,
    executor: v.executor,
    dependencies: v.dependencies,
    mode: v.mode,
    isPersistent: v.isPersistent,
    createDateTime: v.createDateTime ?? 0,
    updateDateTime: v.updateDateTime ?? 0,
    deadlineDateTime: v.deadlineDateTime ?? 0,
    lifecycleStatus: v.lifecycleStatus,
    priority: v.priority,
    attachments: v.attachments,
    runtime,
  }
}

/**
 * Validates an update: only {@link PATCHABLE_FIELDS}, each valid. An empty attachments object becomes null.
 * @throws TaskValidationError naming the first invalid or unknown field
 */
export function parseTaskPatch(patch: unknown): TaskPatch {
  if (!isPlainObject(patch)) throw new TaskValidationError('patch', '(root)', 'expected a JSON object')
  const input = withCamelAliases(patch, SNAKE_ALIASES)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue
    if (key === 'deadlineDateTime') {
      const r = epochMsStrict.safeParse(value)
      if (!r.success) throw new TaskValidationError('patch', key, firstIssue(r.error)[1])
      out[key] = r.data
      continue
    }
    if (key === 'runtime') {
      out[key] = parseTaskRuntimePatch(value)
      continue
    }
    if (!(PATCHABLE_FIELDS as readonly string[]).includes(key)) {
      throw new TaskValidationError('patch', key, `is not a field an update may change (allowed: ${PATCHABLE_FIELDS.join(', ')})`)
    }
    const schema = fieldSchemas[key as Exclude<PatchableField, 'deadlineDateTime' | 'runtime'>]
    const r = schema.safeParse(value)
    if (!r.success) throw new TaskValidationError('patch', key, firstIssue(r.error)[1])
    out[key] = r.data
  }
  return out
}

/** The JSON object Python writes for a task (`model_dump(by_alias=True)`): every field, camelCase, in Python's order; no `runtime`. */
export function toWireTask(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    className: task.className,
    source: task.source,
    name: task.name,
    description: task.description,
    executor: task.executor,
    dependencies: task.dependencies,
    mode: task.mode,
    isPersistent: task.isPersistent,
    createDateTime: task.createDateTime,
    updateDateTime: task.updateDateTime,
    deadlineDateTime: task.deadlineDateTime,
    lifecycleStatus: task.lifecycleStatus,
    priority: task.priority,
    attachments: task.attachments,
  }
}

/** A patch applied to a task, in memory (the stores do the same on disk). */
export function applyTaskPatch(task: Task, patch: TaskPatch, updateDateTime: number): Task {
  const { runtime, ...fields } = patch
  return { ...task, ...fields, runtime: runtime ? { ...task.runtime, ...runtime } : task.runtime, updateDateTime }
}
