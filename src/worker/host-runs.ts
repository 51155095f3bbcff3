// What every host keeps: its running tasks, and closing = abort them all with `shutdown` and wait.
import type { StartRequest, TaskRun } from './host.ts'
import { WorkerArgumentError } from './errors.ts'
import type { ModuleRef } from './protocol.ts'
import type { SupervisedStart, TaskSupervisor } from './task-supervisor.ts'

export class HostRuns {
  readonly #runs = new Set<TaskSupervisor>()
  closed = false

  get size(): number {
    return this.#runs.size
  }

  track(run: TaskSupervisor): TaskSupervisor {
    this.#runs.add(run)
    void run.done.then(() => this.#runs.delete(run))
    return run
  }

  async close(): Promise<void> {
    this.closed = true
    const runs = [...this.#runs]
    for (const run of runs) run.abort('shutdown')
    await Promise.all(runs.map((run) => run.done))
  }

  all(): TaskRun[] {
    return [...this.#runs]
  }
}

/** Checks a start request and puts it in the supervisor's terms. */
export function supervisedStart(request: StartRequest, worker: ModuleRef): SupervisedStart {
  if (typeof request?.taskId !== 'string' || request.taskId === '') throw new WorkerArgumentError('start: taskId must be a non-empty string')
  const epoch = request.epoch ?? 0
  if (!Number.isInteger(epoch) || epoch < 0) throw new WorkerArgumentError(`start: epoch must be a non-negative integer, got ${String(epoch)}`)
  if (request.deadlineAt !== undefined && !Number.isFinite(request.deadlineAt)) throw new WorkerArgumentError('start: deadlineAt must be epoch ms')
  if (request.onEvent !== undefined && typeof request.onEvent !== 'function') throw new WorkerArgumentError('start: onEvent must be a function')
  return {
    taskId: request.taskId,
    epoch,
    worker,
    attachments: request.attachments,
    resumedFrom: request.resumedFrom,
    deadlineAt: request.deadlineAt,
    onEvent: request.onEvent,
  }
}
