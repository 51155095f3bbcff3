// The base of every error the library throws: a stable `code` to branch on, a message naming the field and reason.

export class SkaldsError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A task or patch failed validation; `field` names the offending field (dotted path), `reason` says why. */
export class TaskValidationError extends SkaldsError {
  readonly field: string
  readonly reason: string
  constructor(what: string, field: string, reason: string, options?: ErrorOptions) {
    super('E_TASK_INVALID', `${what}.${field}: ${reason}`, options)
    this.field = field
    this.reason = reason
  }
}

/** An event payload (TaskEvent, UpdateTaskWorkerEvent) is not valid JSON or not of the expected shape. */
export class EventValidationError extends SkaldsError {
  readonly field: string
  readonly reason: string
  constructor(what: string, field: string, reason: string, options?: ErrorOptions) {
    super('E_EVENT_INVALID', `${what}${field ? `.${field}` : ''}: ${reason}`, options)
    this.field = field
    this.reason = reason
  }
}
