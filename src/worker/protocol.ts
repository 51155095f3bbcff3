// The parent↔child protocol: two small message enumerations, each validated with zod by its receiver
// (bullmq's sandboxed-processor style). Messages are plain JSON objects with a `type` discriminant.
import { z } from 'zod'
import { ABORT_REASONS, type AbortReason } from './abort-reason.ts'
import { WorkerProtocolError } from './errors.ts'
import type { JsonValue } from './json.ts'

const abortReason = z.enum(ABORT_REASONS as [AbortReason, ...AbortReason[]])
const json = z.json() as z.ZodType<JsonValue>
/** @internal the parser behind the exported message type. */
const moduleRef = z.object({ module: z.string().min(1), export: z.string().min(1) })
const ms = z.number().int().nonnegative()

/** Where a worker definition (or a cache factory) lives: a module path or file URL and the export's name. */
export type ModuleRef = z.infer<typeof moduleRef>

export const HOOK_NAMES = ['before', 'main', 'after', 'error', 'release', 'update'] as const
export type HookName = (typeof HOOK_NAMES)[number]

/** What the runtime inside the child needs besides the task itself. */
const runSettings = z.object({
  aliveIntervalMs: ms.min(1),
  progressIntervalMs: ms,
  checkpointMaxBytes: z.number().int().positive(),
  logLevel: z.string().min(1),
  /** how long a crash's error and release hooks may take before the child exits anyway */
  graceMs: ms,
})
export type RunSettings = z.infer<typeof runSettings>

/** @internal the parser behind the exported message type. */
const parentMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    taskId: z.string().min(1),
    epoch: z.number().int().nonnegative(),
    worker: moduleRef,
    attachments: z.unknown(),
    resumedFrom: json.optional(),
    settings: runSettings,
    cache: moduleRef.nullable(),
  }),
  z.object({ type: z.literal('update'), updateId: z.number().int().nonnegative(), attachments: z.unknown() }),
  z.object({ type: z.literal('abort'), reason: abortReason }),
  /** stop now: run release if it has not run, report, exit (the thread host's SIGTERM) */
  z.object({ type: z.literal('terminate') }),
])
export type ParentMessage = z.infer<typeof parentMessage>
export type StartMessage = Extract<ParentMessage, { type: 'start' }>

/** @internal the parser behind the exported message type. */
const errorInfo = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().nullable(),
  stack: z.string().nullable(),
})
/** An error as it crosses the boundary: enough to log and to branch on its code. */
export type ErrorInfo = z.infer<typeof errorInfo>

const outcomeReport = z.discriminatedUnion('status', [
  z.object({ status: z.literal('finished') }),
  z.object({ status: z.literal('failed'), error: errorInfo }),
  z.object({ status: z.literal('aborted'), reason: abortReason }),
])
export type OutcomeReport = z.infer<typeof outcomeReport>

/** @internal the parser behind the exported message type. */
const childMessage = z.discriminatedUnion('type', [
  /** a pooled child has booted and waits for `start` */
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({
    type: z.literal('loaded'),
    className: z.string(),
    isolation: z.enum(['process', 'thread', 'inline']),
    freeze: z.boolean(),
  }),
  /** the attachments passed the schema; the hooks begin */
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('hook'), hook: z.enum(HOOK_NAMES) }),
  /** the child's event loop turns (sent every aliveIntervalMs) */
  z.object({ type: z.literal('alive') }),
  z.object({ type: z.literal('progress'), value: z.number().min(0).max(100), message: z.string().nullable() }),
  z.object({ type: z.literal('checkpoint'), state: json }),
  z.object({ type: z.literal('log'), line: z.string() }),
  z.object({
    type: z.literal('stage'),
    name: z.string(),
    attempt: z.number().int().positive(),
    status: z.enum(['started', 'retrying', 'done', 'failed']),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('update-result'), updateId: z.number().int().nonnegative(), accepted: z.boolean(), reason: z.string().nullable() }),
  z.object({ type: z.literal('outcome'), outcome: outcomeReport }),
])
export type ChildMessage = z.infer<typeof childMessage>

function parse<T>(schema: z.ZodType<T>, raw: unknown, direction: string): T {
  const result = schema.safeParse(raw)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
  const type = typeof (raw as { type?: unknown } | null)?.type === 'string' ? ` ${(raw as { type: string }).type}` : ''
  throw new WorkerProtocolError(`${direction} message${type} rejected: ${where}${issue?.message ?? 'invalid'}`)
}

/** @throws WorkerProtocolError */
export const parseParentMessage = (raw: unknown): ParentMessage => parse(parentMessage, raw, 'parent→child')
/** @throws WorkerProtocolError */
export const parseChildMessage = (raw: unknown): ChildMessage => parse(childMessage, raw, 'child→parent')

/** An error (or anything thrown) as ErrorInfo. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : null, stack: error.stack ?? null }
  }
  return { name: 'NonError', message: typeof error === 'string' ? error : safeString(error), code: null, stack: null }
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
