// /api/tasks: Python Skalds' task routes (wire §6.6) with their shapes, fixed (null attachments, one task by id,
// 404 details), plus what Python lacks: create, pause, resume, retry, progress, checkpoint, log, bulk cancel.
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { statusOfHeartbeat } from '../../../model/enums.ts'
import type { Task, TaskInput } from '../../../model/task.ts'
import { TaskNotFoundError } from '../../../store/errors.ts'
import type { TaskListQuery } from '../../../store/task-store.ts'
import { TaskStateError } from '../../task-commands.ts'
import type { ControllerApiDeps } from '../deps.ts'
import { ApiInputError } from '../errors.ts'
import {
  attachmentsBody,
  bulkCancelBody,
  bulkCancelResponse,
  checkpointResponse,
  createTaskBody,
  errorSchema,
  heartbeatResponse,
  logQuery,
  logResponse,
  progressResponse,
  statusBody,
  successResponse,
  taskListQuery,
  taskListResponse,
  taskParams,
  taskResponse,
  timelineQuery,
  timelineResponse,
  type TaskListQueryParams,
} from '../schemas.ts'
import { beatsOf, toTaskResponse, viewTasks } from '../task-view.ts'

const ATTACHMENTS_CHECKED =
  "The attachments are checked first against the JSON Schema the class's online nodes published: a mismatch is a 400 `E_ATTACHMENTS_INVALID` naming each `attachments.<field>` in `details`, and nothing is stored. When no online node with the class published one, they are stored unchecked and the worker validates them when it starts."
const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema }

export function listQueryOf(q: TaskListQueryParams): TaskListQuery {
  return {
    ...(q.lifecycleStatus ? { lifecycleStatus: q.lifecycleStatus } : {}),
    ...(q.className ? { className: q.className } : {}),
    ...(q.executor ? { executor: q.executor } : {}),
    ...(q.mode ? { mode: q.mode } : {}),
    ...(q.id ? { text: q.id } : {}),
    sort: { field: q.sortBy, direction: q.sortOrder },
    offset: (q.page - 1) * q.pageSize,
    limit: q.pageSize,
  }
}

export const taskRoutes: FastifyPluginAsyncZod<{ deps: ControllerApiDeps }> = (app, { deps }) => {
  const { reads, commands, state } = deps

  async function mustGet(id: string): Promise<Task> {
    const task = await reads.task(id)
    if (!task) throw new TaskNotFoundError(id)
    return task
  }
  async function view(task: Task) {
    return toTaskResponse(task, (await beatsOf(state, [task])).get(task.id))
  }
  /** Runs a command and drops what is cached of the task, whatever the outcome (a conflict means it moved). */
  async function command(id: string, kind: 'status' | 'attachments' | 'cancelled', run: () => Promise<Task>): Promise<Task> {
    try {
      const task = await run()
      await reads.changed({ id, kind, executor: task.executor })
      return task
    } catch (error) {
      if (error instanceof TaskStateError) await reads.changed({ id, kind: 'status', executor: error.current.executor })
      throw error
    }
  }

  app.get('/', { schema: { tags: ['tasks'], summary: 'A page of tasks, newest first', querystring: taskListQuery, response: { 200: taskListResponse, ...errors } } }, async (request) => {
    const q = request.query
    const page = await reads.list(listQueryOf(q))
    return { items: await viewTasks(state, page.items), total: page.total, page: q.page, pageSize: q.pageSize }
  })

  app.get('/classnames', { schema: { tags: ['tasks'], summary: 'Distinct class names of the stored tasks', response: { 200: z.array(z.string()) } } }, () => reads.classNames())

  app.post('/', { schema: { tags: ['tasks'], summary: 'Create a task (dispatched at once)', description: ATTACHMENTS_CHECKED, body: createTaskBody, response: { 201: taskResponse, ...errors } } }, async (request, reply) => {
    const b = request.body
    const input: TaskInput = {
      id: b.id ?? randomUUID(),
      className: b.className,
      source: b.source,
      mode: b.mode,
      priority: b.priority,
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.attachments !== undefined ? { attachments: b.attachments } : {}),
      ...(b.dependencies !== undefined ? { dependencies: b.dependencies } : {}),
      ...(b.deadlineDateTime !== undefined ? { deadlineDateTime: b.deadlineDateTime } : {}),
      ...(b.isPersistent !== undefined ? { isPersistent: b.isPersistent } : {}),
      ...(b.maxRetries !== undefined ? { runtime: { maxRetries: b.maxRetries } } : {}),
    }
    const task = await commands.create(input)
    await reads.changed({ id: task.id, kind: 'created', executor: null })
    return reply.code(201).send(toTaskResponse(task, undefined))
  })

  app.post(
    '/cancel',
    { schema: { tags: ['tasks'], summary: 'Cancel every live task matching a filter', body: bulkCancelBody, response: { 200: bulkCancelResponse, ...errors } } },
    async (request) => {
      const b = request.body
      const filtered = b.className !== undefined || b.executor !== undefined || b.mode !== undefined || b.id !== undefined || b.lifecycleStatus !== undefined
      if (!filtered && !b.all) throw new ApiInputError('body', 'name at least one filter (lifecycleStatus, className, executor, mode, id), or all: true to cancel every live task')
      const page = await deps.store.list({
        lifecycleStatus: b.lifecycleStatus ?? ['Created', 'Assigning', 'Running', 'Paused'],
        ...(b.className ? { className: b.className } : {}),
        ...(b.executor ? { executor: b.executor } : {}),
        ...(b.mode ? { mode: b.mode } : {}),
        ...(b.id ? { text: b.id } : {}),
        sort: { field: 'createDateTime', direction: 'asc' },
        limit: b.limit,
      })
      const cancelled: string[] = []
      const skipped: { id: string; reason: string }[] = []
      for (const task of page.items) {
        try {
          await command(task.id, 'cancelled', () => commands.cancel(task.id))
          cancelled.push(task.id)
        } catch (error) {
          skipped.push({ id: task.id, reason: error instanceof Error ? error.message : String(error) })
        }
      }
      return { matched: page.total, cancelled, skipped }
    },
  )

  app.get('/:task_id', { schema: { tags: ['tasks'], summary: 'One task', params: taskParams, response: { 200: taskResponse, ...errors } } }, async (request) =>
    view(await mustGet(request.params.task_id)),
  )

  app.put(
    '/:task_id/status',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Set the status: Cancelled cancels, Paused pauses, Created resumes a Paused task or retries a Failed or Cancelled one',
        params: taskParams,
        body: statusBody,
        response: { 200: successResponse, ...errors },
      },
    },
    async (request) => {
      const id = request.params.task_id
      const wanted = (request.body.lifecycleStatus ?? request.body.lifecycle_status)!
      let task: Task
      if (wanted === 'Cancelled') task = await command(id, 'cancelled', () => commands.cancel(id))
      else if (wanted === 'Paused') task = await command(id, 'status', () => commands.pause(id))
      else {
        const current = await mustGet(id)
        task = await command(id, 'status', () => (current.lifecycleStatus === 'Paused' ? commands.resume(id) : commands.retry(id)))
      }
      return { success: true, message: `Task status updated to ${wanted}`, data: { taskId: id, status: wanted, lifecycleStatus: task.lifecycleStatus } }
    },
  )

  app.put(
    '/:task_id/attachments',
    { schema: { tags: ['tasks'], summary: "Replace the task's attachments; its running worker takes them live", description: ATTACHMENTS_CHECKED, params: taskParams, body: attachmentsBody, response: { 200: successResponse, ...errors } } },
    async (request) => {
      const id = request.params.task_id
      const task = await command(id, 'attachments', () => commands.updateAttachments(id, request.body.attachments))
      return { success: true, message: 'Task attachments updated successfully', data: { taskId: id, attachments: task.attachments ?? {} } }
    },
  )

  app.delete('/:task_id', { schema: { tags: ['tasks'], summary: 'Cancel a task', params: taskParams, response: { 200: successResponse, ...errors } } }, async (request) => {
    const id = request.params.task_id
    await command(id, 'cancelled', () => commands.cancel(id))
    return { success: true, message: 'Task cancelled successfully', data: { taskId: id, status: 'Cancelled' } }
  })

  for (const [verb, summary] of [
    ['pause', 'Pause a task: cooperative (checkpoint and stop) or frozen in place, as its class says'],
    ['resume', 'Resume a Paused task: thawed in place, or dispatched again with its checkpoint'],
    ['retry', 'Run a Failed or Cancelled task again'],
  ] as const) {
    app.post(`/:task_id/${verb}`, { schema: { tags: ['tasks'], summary, params: taskParams, response: { 200: taskResponse, ...errors } } }, async (request) => {
      const id = request.params.task_id
      return view(await command(id, 'status', () => commands[verb](id)))
    })
  }

  app.get('/:task_id/heartbeat', { schema: { tags: ['tasks'], summary: "The task's heartbeat as its node writes it", params: taskParams, response: { 200: heartbeatResponse, ...errors } } }, async (request) => {
    const task = await mustGet(request.params.task_id)
    const beat = state ? await state.beat(task.id) : undefined
    const heartbeat = beat?.heartbeat ?? 0
    return {
      taskId: task.id,
      heartbeat,
      status: task.lifecycleStatus,
      isAlive: beat?.heartbeatPresent === true && statusOfHeartbeat(heartbeat) === undefined,
      isAssigning: task.lifecycleStatus === 'Assigning',
      error: beat?.hasError || null,
      exception: beat?.exception || null,
      lastUpdate: task.updateDateTime,
      heartbeatHistory: beat?.heartbeatPresent ? [heartbeat] : [],
    }
  })

  app.get('/:task_id/progress', { schema: { tags: ['tasks'], summary: "The run's last progress report", params: taskParams, response: { 200: progressResponse, ...errors } } }, async (request) => {
    const task = await mustGet(request.params.task_id)
    const live = state ? await state.task(task.id) : undefined
    return { taskId: task.id, lifecycleStatus: task.lifecycleStatus, progress: live?.progress ?? null }
  })

  app.get('/:task_id/checkpoint', { schema: { tags: ['tasks'], summary: 'The last checkpoint (what a resumed run starts from)', params: taskParams, response: { 200: checkpointResponse, ...errors } } }, async (request) => {
    const task = await mustGet(request.params.task_id)
    const live = state ? await state.task(task.id) : undefined
    // The store keeps the checkpoint a run handed over when it stopped; Redis the newest one of a running run.
    const fromRun = live?.checkpoint && live.checkpoint.epoch >= task.runtime.epoch ? live.checkpoint : undefined
    const value = fromRun ? fromRun.state : task.runtime.checkpoint
    return {
      taskId: task.id,
      epoch: fromRun ? fromRun.epoch : value === null ? null : task.runtime.epoch,
      timestamp: fromRun ? fromRun.timestamp : null,
      bytes: value === null || value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)),
      state: value ?? null,
    }
  })

  app.get('/:task_id/log', { schema: { tags: ['tasks'], summary: "The run's newest log lines (bounded)", params: taskParams, querystring: logQuery, response: { 200: logResponse, ...errors } } }, async (request) => {
    const task = await mustGet(request.params.task_id)
    const lines = state ? (await state.task(task.id)).log : []
    const limit = request.query.limit
    return { taskId: task.id, lines: lines.slice(-limit), truncated: lines.length > limit }
  })

  app.get(
    '/:task_id/timeline',
    { schema: { tags: ['tasks'], summary: 'Its state changes as the controllers saw them, oldest first, with the node of each attempt', params: taskParams, querystring: timelineQuery, response: { 200: timelineResponse, ...errors } } },
    async (request) => {
      const task = await mustGet(request.params.task_id)
      const entries = await deps.store.timeline(task.id, request.query.limit)
      return { taskId: task.id, entries: entries.map(({ taskId: _id, at, ...rest }) => ({ at: new Date(at).toISOString(), ...rest })) }
    },
  )
  return Promise.resolve()
}
