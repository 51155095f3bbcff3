// Errors of the Disk Storage layer: one class per code.
import { SkaldsError } from '../model/errors.ts'
import type { Task } from '../model/task.ts'

/** No task has this id. */
export class TaskNotFoundError extends SkaldsError {
  readonly taskId: string
  constructor(taskId: string, options?: ErrorOptions) {
    super('E_TASK_NOT_FOUND', `task ${JSON.stringify(taskId)} does not exist`, options)
    this.taskId = taskId
  }
}

/** A task with this id already exists (ids are unique). */
export class TaskExistsError extends SkaldsError {
  readonly taskId: string
  constructor(taskId: string, options?: ErrorOptions) {
    super('E_TASK_EXISTS', `task ${JSON.stringify(taskId)} already exists`, options)
    this.taskId = taskId
  }
}

/**
 * A compare-and-set update lost: the task changed since the caller read it (another controller, a Python
 * writer), or a field no longer has the expected value. `current` is the task as stored now, when known:
 * re-decide from it and retry.
 */
export class TaskConflictError extends SkaldsError {
  readonly taskId: string
  readonly current: Task | undefined
  constructor(taskId: string, reason: string, current?: Task, options?: ErrorOptions) {
    super('E_TASK_CONFLICT', `task ${JSON.stringify(taskId)} was not updated: ${reason}`, options)
    this.taskId = taskId
    this.current = current
  }
}

/** A list/count query or an option is invalid: the message names it and says why. */
export class TaskQueryError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_TASK_QUERY_INVALID', message, options)
  }
}

/** The storage engine cannot be reached or refused the operation for a reason other than the task itself. */
export class StoreUnavailableError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_STORE_UNAVAILABLE', message, options)
  }
}

/** An option of a store (SQLite path, MongoDB url, a timeout…) is invalid: the message names it and says why. */
export class StoreOptionsError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_STORE_OPTIONS_INVALID', message, options)
  }
}
