// defineWorker: a TaskWorker class as a plain object (class name, attachments schema, isolation, hooks).
import { z } from 'zod'
import type { AbortReason } from './abort-reason.ts'
import type { WorkerContext } from './context.ts'
import { WorkerDefinitionError } from './errors.ts'
import { type InferOutput, type StandardSchemaV1, isStandardSchema } from './standard-schema.ts'

/** Where a task's hooks run. */
export const Isolation = {
  /** a child process (default): crashes, leaks and busy loops stay out of the node; freeze possible */
  Process: 'process',
  /** a worker thread: faster to start, shares the node's process (a native crash or `process.kill` takes both) */
  Thread: 'thread',
  /** the node's own event loop: fastest, for light async tasks; cannot be preempted */
  Inline: 'inline',
} as const
export type Isolation = (typeof Isolation)[keyof typeof Isolation]
export const ISOLATIONS: readonly Isolation[] = Object.values(Isolation)

/** How a task's lifecycle ended, as its release hook sees it. */
export type TaskEnding =
  | { status: 'finished' }
  | { status: 'failed'; error: unknown }
  | { status: 'aborted'; reason: AbortReason }

export type Hook<A, S, Args extends unknown[] = []> = (ctx: WorkerContext<A, S>, ...args: Args) => unknown

/** The hooks of a worker class: Skalds' before → main → after, error on an exception, release always, update on new attachments. */
export interface WorkerHooks<A, S> {
  /** runs first; a throw fails the task (main and after are skipped) */
  before?: Hook<A, S>
  /** the work itself; required */
  main: Hook<A, S>
  /** runs when main returned without an abort; a throw fails the task */
  after?: Hook<A, S>
  /** runs once when before, main, after or a crash failed the task (not on an abort); its own errors are logged */
  error?: Hook<A, S, [error: unknown]>
  /** runs exactly once at the end of every task that entered before: finished, failed, aborted or signalled */
  release?: Hook<A, S, [ending: TaskEnding]>
  /**
   * runs for each update whose attachments passed the schema, one at a time, between the awaits of main;
   * `ctx.attachments` still holds the previous values until it returns. A throw rejects the update (old values kept).
   */
  update?: Hook<A, S, [next: A]>
}

export interface WorkerDefinitionInput<Schema extends StandardSchemaV1, S = undefined> extends WorkerHooks<InferOutput<Schema>, S> {
  /** the Skalds class name tasks refer to (`className`); exact and case-sensitive */
  className: string
  /** any Standard Schema v1 (zod 4, valibot, arktype…): validates the start attachments and every update */
  attachments: Schema
  /** where the class's tasks run unless a task says otherwise; default `process` */
  isolation?: Isolation
  /** pause by SIGSTOP/SIGCONT instead of checkpointing (process isolation only); default false */
  freeze?: boolean
  /** builds per-task state, reachable as `ctx.state` from every hook; default none (`undefined`) */
  state?: () => S
}

/** A worker class, as `defineWorker` returns it: frozen, defaults filled, branded for module loading. */
export interface WorkerDefinition<Schema extends StandardSchemaV1 = StandardSchemaV1, S = unknown> extends Readonly<WorkerDefinitionInput<Schema, S>> {
  readonly kind: 'skalds-worker'
  readonly isolation: Isolation
  readonly freeze: boolean
}

/** Any worker definition, whatever its schema and state. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWorkerDefinition = WorkerDefinition<StandardSchemaV1, any>

const fn = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function')
const definitionSchema = z.object({
  className: z
    .string('must be a string')
    .min(1, 'must be a non-empty string')
    .refine((v) => v.trim() === v, 'must not start or end with whitespace'),
  attachments: z.custom<StandardSchemaV1>(isStandardSchema, 'must be a Standard Schema v1 (zod 4, valibot, arktype…)'),
  isolation: z.enum(ISOLATIONS as [Isolation, ...Isolation[]], `must be one of ${ISOLATIONS.join(', ')}`).optional(),
  freeze: z.boolean('must be a boolean').optional(),
  state: fn.optional(),
  before: fn.optional(),
  main: fn,
  after: fn.optional(),
  error: fn.optional(),
  release: fn.optional(),
  update: fn.optional(),
})

/**
 * Defines a worker class. Hooks get a {@link WorkerContext}; `ctx.attachments` is typed from the schema.
 * @throws WorkerDefinitionError naming the offending field
 */
export function defineWorker<Schema extends StandardSchemaV1, S = undefined>(input: WorkerDefinitionInput<Schema, S>): WorkerDefinition<Schema, S> {
  const result = definitionSchema.safeParse(input)
  if (!result.success) {
    const issue = result.error.issues[0]
    const field = issue?.path.join('.') || '(root)'
    throw new WorkerDefinitionError(`defineWorker(${describe(input)}).${field}: ${issue?.message ?? 'invalid'}`)
  }
  const isolation = input.isolation ?? Isolation.Process
  const freeze = input.freeze ?? false
  if (freeze && isolation !== Isolation.Process) {
    throw new WorkerDefinitionError(`defineWorker(${describe(input)}).freeze: needs isolation 'process', not '${isolation}'`)
  }
  return Object.freeze({ ...input, isolation, freeze, kind: 'skalds-worker' as const })
}

/** Whether a value is a definition made by `defineWorker` (possibly by another copy of this module). */
export function isWorkerDefinition(value: unknown): value is AnyWorkerDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'skalds-worker' &&
    typeof (value as { main?: unknown }).main === 'function' &&
    isStandardSchema((value as { attachments?: unknown }).attachments)
  )
}

function describe(input: unknown): string {
  const name = (input as { className?: unknown } | null)?.className
  return typeof name === 'string' ? JSON.stringify(name) : ''
}
