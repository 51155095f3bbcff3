// The API's shapes as zod schemas: they validate requests, serialize responses and generate the OpenAPI document.
// Response shapes are Python Skalds' (wire §6.6) with our fields added after theirs; `lastHeartbeat` is a number
// everywhere (Python sends a string in one place, §8 #28).
import { z } from 'zod'
import { LIFECYCLE_STATUSES, MODES, type ModeEnum, type TaskLifecycleStatus } from '../../model/enums.ts'
import { PRIORITY_MAX, PRIORITY_MIN } from '../../model/task.ts'
import { MAX_LIST_LIMIT } from '../../store/task-store.ts'

export const statusSchema = z.enum(LIFECYCLE_STATUSES as [TaskLifecycleStatus, ...TaskLifecycleStatus[]])
export const modeSchema = z.enum(MODES as [ModeEnum, ...ModeEnum[]])
const json = z.record(z.string(), z.unknown())
const taskId = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters')

export const errorSchema = z
  .object({
    error: z.string(),
    code: z.string(),
    status_code: z.number().int(),
    path: z.string(),
    details: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  })
  .meta({ id: 'Error' })

export const taskParams = z.object({ task_id: taskId })
export const skaldParams = z.object({ skald_id: z.string().min(1).max(256) })

export const taskResponse = z
  .object({
    id: z.string(),
    className: z.string(),
    lifecycleStatus: statusSchema,
    executor: z.string().nullable(),
    createDateTime: z.number().int(),
    updateDateTime: z.number().int(),
    mode: modeSchema,
    /** null in the store reads as {} (Python's REST API fails on null: §8 #12) */
    attachments: json,
    heartbeat: z.number().int(),
    error: z.string().nullable(),
    exception: z.string().nullable(),
    priority: z.number().int(),
    name: z.string().nullable(),
    description: z.string().nullable(),
    source: z.string(),
    dependencies: z.array(z.string()).nullable(),
    isPersistent: z.boolean(),
    deadlineDateTime: z.number().int(),
    runtime: z.object({
      epoch: z.number().int(),
      attempt: z.number().int(),
      maxRetries: z.number().int().nullable(),
      lastError: z.string().nullable(),
      pausedAt: z.number().int().nullable(),
      notBefore: z.number().int().nullable(),
      hasCheckpoint: z.boolean(),
    }),
  })
  .meta({ id: 'Task' })
export type TaskResponse = z.infer<typeof taskResponse>

export const taskListQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
  lifecycleStatus: statusSchema.optional(),
  className: z.string().min(1).optional(),
  /** a case-insensitive substring of the id or name, taken literally (Python: an unescaped regex, §8 #26) */
  id: z.string().min(1).optional(),
  executor: z.string().min(1).optional(),
  mode: modeSchema.optional(),
  sortBy: z.enum(['createDateTime', 'updateDateTime', 'priority', 'id', 'className', 'lifecycleStatus', 'deadlineDateTime']).default('createDateTime'),
  sortOrder: z.enum(['asc', 'desc']).default('desc'),
})
export type TaskListQueryParams = z.infer<typeof taskListQuery>

export const taskListResponse = z.object({ items: z.array(taskResponse), total: z.number().int(), page: z.number().int(), pageSize: z.number().int() })

export const createTaskBody = z
  .object({
    id: taskId.regex(/^[^\s*?[\]]+$/, 'must not hold spaces or glob characters (* ? [ ])').optional(),
    className: z.string().min(1, 'must not be empty').max(256),
    name: z.string().max(1024).nullable().optional(),
    description: z.string().max(10_000).nullable().optional(),
    source: z.string().min(1).max(256).default('API'),
    mode: modeSchema.default('Passive' as ModeEnum),
    priority: z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX).default(0),
    attachments: json.nullable().optional(),
    dependencies: z.array(taskId).max(1000).nullable().optional(),
    deadlineDateTime: z.number().int().positive().optional(),
    isPersistent: z.boolean().optional(),
    /** retries allowed after the first run; absent = the class's default */
    maxRetries: z.number().int().min(0).max(1000).optional(),
  })
  .strict()
  .meta({ id: 'CreateTask' })

export const statusBody = z
  .object({
    lifecycleStatus: z.enum(['Created', 'Cancelled', 'Paused']).optional(),
    lifecycle_status: z.enum(['Created', 'Cancelled', 'Paused']).optional(),
  })
  .refine((b) => (b.lifecycleStatus ?? b.lifecycle_status) !== undefined, { message: 'lifecycleStatus: required (Created, Cancelled or Paused)', path: ['lifecycleStatus'] })

export const attachmentsBody = z.object({ attachments: json.nullable() })

export const successResponse = z.object({ success: z.boolean(), message: z.string(), data: json })

export const bulkCancelBody = z
  .object({
    lifecycleStatus: z.array(z.enum(['Created', 'Assigning', 'Running', 'Paused'])).min(1).optional(),
    className: z.string().min(1).optional(),
    executor: z.string().min(1).optional(),
    mode: modeSchema.optional(),
    id: z.string().min(1).optional(),
    /** cancel every live task when no other filter is given; guards against an empty body cancelling everything */
    all: z.boolean().default(false),
    limit: z.number().int().min(1).max(MAX_LIST_LIMIT).default(1000),
  })
  .strict()

export const bulkCancelResponse = z.object({
  matched: z.number().int(),
  cancelled: z.array(z.string()),
  skipped: z.array(z.object({ id: z.string(), reason: z.string() })),
})

export const heartbeatResponse = z.object({
  taskId: z.string(),
  heartbeat: z.number().int(),
  status: statusSchema,
  isAlive: z.boolean(),
  isAssigning: z.boolean(),
  error: z.string().nullable(),
  exception: z.string().nullable(),
  lastUpdate: z.number().int(),
  heartbeatHistory: z.array(z.number().int()),
})

export const progressResponse = z.object({
  taskId: z.string(),
  lifecycleStatus: statusSchema,
  progress: z.object({ value: z.number(), message: z.string().nullable(), epoch: z.number().int(), timestamp: z.number().int() }).nullable(),
})

export const checkpointResponse = z.object({
  taskId: z.string(),
  epoch: z.number().int().nullable(),
  timestamp: z.number().int().nullable(),
  bytes: z.number().int(),
  state: z.unknown(),
})

export const logQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) })
export const logResponse = z.object({ taskId: z.string(), lines: z.array(z.string()), truncated: z.boolean() })

export const timelineQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(200) })
export const timelineResponse = z.object({
  taskId: z.string(),
  entries: z.array(
    z.object({
      at: z.string().describe('ISO 8601: the task\'s updateDateTime at this change'),
      lifecycleStatus: statusSchema,
      executor: z.string().nullable().describe('the node it was assigned to or ran on'),
      attempt: z.number().int().describe('runs started so far; the first run is 1'),
      message: z.string().nullable().describe('why, where known (a failed run\'s error)'),
    }),
  ),
})

export const skaldResponse = z
  .object({
    id: z.string(),
    type: z.enum(['node', 'edge']),
    status: z.enum(['online', 'offline']),
    lastHeartbeat: z.number().int(),
    supportedTasks: z.array(z.string()),
    currentTasks: z.array(z.string()),
    heartbeat: z.number().int(),
    taskCount: z.number().int(),
    load: z
      .object({
        capacity: z.number().int().nullable(),
        running: z.number().int(),
        draining: z.boolean(),
        cpuPercent: z.number(),
        rssMb: z.number(),
        classes: z.record(z.string(), z.object({ capacity: z.number().int().nullable(), running: z.number().int() })),
      })
      .nullable(),
  })
  .meta({ id: 'Skald' })
export type SkaldResponse = z.infer<typeof skaldResponse>

export const skaldListQuery = z.object({ type: z.enum(['node', 'edge']).optional(), status: z.enum(['online', 'offline']).optional() })
export const hoursQuery = z.object({ hours: z.coerce.number().int().min(1).max(168).default(24) })

export const configResponse = z.object({
  mode: z.string(),
  host: z.string(),
  port: z.number().int(),
  monitoring: z.object({ skaldInterval: z.number(), taskInterval: z.number(), heartbeatTimeout: z.number() }).describe('seconds'),
  dispatcher: z.object({ interval: z.number().describe('seconds'), strategy: z.string() }),
  environment: z.string(),
  logLevel: z.string(),
  engines: z
    .object({ store: z.string(), bus: z.string().nullable(), state: z.string().nullable(), cache: z.string().nullable().describe('null: no task caches (their routes answer 404)') })
    .describe('which engine each part runs on; null where the part is off'),
})
