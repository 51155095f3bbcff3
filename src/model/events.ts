// Kafka payloads (wire §2.3): TaskEvent and UpdateTaskWorkerEvent. Input accepts both the camelCase
// aliases and the Python snake_case names; output is always the controller's camelCase form.
import { z } from 'zod'
import { EventValidationError } from './errors.ts'
import type { StandardSchemaV1 } from './standard-schema.ts'
import { epochMsStrict, firstIssue, isPlainObject, withCamelAliases } from './wire-values.ts'
import type { Attachments } from './task.ts'

/** The payload of `task.assign`, `task.cancel` and `task.update.attachment`. */
export interface TaskEvent {
  /** the task id when the controller sends it; may be null */
  id: string | null
  title: string | null
  initiator: string | null
  /** not used for routing */
  recipient: string | null
  /** epoch ms; default now */
  createDateTime: number
  /** epoch ms; default now */
  updateDateTime: number
  /** the tasks the event is about (the controller always sends exactly one) */
  taskIds: string[]
}

/** The payload of `taskworker.update`: the attachments the worker should switch to, or null. */
export interface UpdateTaskWorkerEvent {
  attachments: Attachments | null
}

const TASK_EVENT_ALIASES: Readonly<Record<string, string>> = {
  create_date_time: 'createDateTime',
  update_date_time: 'updateDateTime',
  task_ids: 'taskIds',
}

const nullableText = z.string().nullable().default(null)
const taskEventZod = z.object({
  id: nullableText,
  title: nullableText,
  initiator: nullableText,
  recipient: nullableText,
  createDateTime: epochMsStrict.optional(),
  updateDateTime: epochMsStrict.optional(),
  taskIds: z.array(z.string().min(1, 'must be a non-empty task id')),
})

const updateTaskWorkerEventSchema = z.object({
  attachments: z.record(z.string(), z.unknown()).nullable().default(null),
})

function toObject(input: unknown, what: string): Record<string, unknown> {
  let value = input
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input)
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new EventValidationError(what, '', `not valid JSON (${(error as Error).message})`, { cause: error })
    }
  }
  if (!isPlainObject(value)) throw new EventValidationError(what, '', 'expected a JSON object')
  return value
}

/**
 * Reads a TaskEvent from a Kafka value (bytes or string) or a parsed object. Accepts `taskIds`/`task_ids`,
 * `createDateTime`/`create_date_time`, `updateDateTime`/`update_date_time` (the alias wins when both are
 * present, as in pydantic); integer strings are accepted for the timestamps; unknown keys are ignored.
 * @throws EventValidationError naming the field
 */
export function parseTaskEvent(input: unknown, options: { now?: number } = {}): TaskEvent {
  const obj = withCamelAliases(toObject(input, 'TaskEvent'), TASK_EVENT_ALIASES)
  const result = taskEventZod.safeParse(obj)
  if (!result.success) {
    const [field, reason] = firstIssue(result.error)
    throw new EventValidationError('TaskEvent', field, reason)
  }
  const now = options.now ?? Date.now()
  const v = result.data
  return {
    id: v.id,
    title: v.title,
    initiator: v.initiator,
    recipient: v.recipient,
    createDateTime: v.createDateTime ?? now,
    updateDateTime: v.updateDateTime ?? now,
    taskIds: v.taskIds,
  }
}

/** A TaskEvent about one task, as the Python controller sends it: `id` = the task id, `taskIds` = [id]. */
export function createTaskEvent(
  taskId: string,
  fields: Partial<Omit<TaskEvent, 'taskIds' | 'id'>> & { now?: number } = {},
): TaskEvent {
  const now = fields.now ?? Date.now()
  return {
    id: taskId,
    title: fields.title ?? null,
    initiator: fields.initiator ?? null,
    recipient: fields.recipient ?? null,
    createDateTime: fields.createDateTime ?? now,
    updateDateTime: fields.updateDateTime ?? now,
    taskIds: [taskId],
  }
}

/** The camelCase wire object, keys in Python's order (`model_dump(by_alias=True)`). */
export function toWireTaskEvent(event: TaskEvent): Record<string, unknown> {
  return {
    id: event.id,
    title: event.title,
    initiator: event.initiator,
    recipient: event.recipient,
    createDateTime: event.createDateTime,
    updateDateTime: event.updateDateTime,
    taskIds: event.taskIds,
  }
}

/** The compact JSON text of a TaskEvent, byte-identical to the Python controller's. */
export function serializeTaskEvent(event: TaskEvent): string {
  return JSON.stringify(toWireTaskEvent(event))
}

/**
 * Reads an UpdateTaskWorkerEvent. `attachments` is kept exactly as sent: Python nodes send the worker model's
 * field names (snake_case), not the aliases stored in Mongo, so workers must accept both casings.
 * @throws EventValidationError naming the field
 */
export function parseUpdateTaskWorkerEvent(input: unknown): UpdateTaskWorkerEvent {
  const result = updateTaskWorkerEventSchema.safeParse(toObject(input, 'UpdateTaskWorkerEvent'))
  if (!result.success) {
    const [field, reason] = firstIssue(result.error)
    throw new EventValidationError('UpdateTaskWorkerEvent', field, reason)
  }
  return { attachments: result.data.attachments }
}

/** The compact JSON text of an UpdateTaskWorkerEvent: `{"attachments":…}`. */
export function serializeUpdateTaskWorkerEvent(event: UpdateTaskWorkerEvent): string {
  return JSON.stringify({ attachments: event.attachments })
}

/** TaskEvent (both spellings) as a Standard Schema, so a bus dead-letters a bad payload instead of a handler failing. */
export const taskEventSchema: StandardSchemaV1<unknown, TaskEvent> = {
  '~standard': {
    version: 1,
    vendor: 'skalds',
    validate: (value) => {
      try {
        return { value: parseTaskEvent(value) }
      } catch (error) {
        if (error instanceof EventValidationError) return { issues: [{ message: error.message }] }
        throw error
      }
    },
  },
}
