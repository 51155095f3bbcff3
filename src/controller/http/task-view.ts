// A stored task as the API shows it: Python's TaskResponse plus our fields, with the live heartbeat, error and
// exception of a task that is running, or that failed (read from the Skalds' state in one batch per page).
import type { Task } from '../../model/task.ts'
import type { SkaldStateReader, TaskBeat } from '../../state/reader.ts'
import type { TaskResponse } from './schemas.ts'

// Failed too: its run's exception (and the -1) stay in the state for REDIS_KEY_TTL, and Python's API shows them for a
// Failed task; a Python node writes its worker's exception there only (docs/python-interop.md). The keys are cleared
// when the task is assigned again, so they are always the last run's.
const LIVE = new Set(['Assigning', 'Running', 'Paused', 'Failed'])

export function toTaskResponse(task: Task, beat: TaskBeat | undefined): TaskResponse {
  const r = task.runtime
  return {
    id: task.id,
    className: task.className,
    lifecycleStatus: task.lifecycleStatus,
    executor: task.executor,
    createDateTime: task.createDateTime,
    updateDateTime: task.updateDateTime,
    mode: task.mode,
    attachments: task.attachments ?? {},
    heartbeat: beat?.heartbeat ?? 0,
    error: beat?.hasError || null,
    exception: beat?.exception || null,
    priority: task.priority,
    name: task.name,
    description: task.description,
    source: task.source,
    dependencies: task.dependencies,
    isPersistent: task.isPersistent,
    deadlineDateTime: task.deadlineDateTime,
    runtime: {
      epoch: r.epoch,
      attempt: r.attempt,
      maxRetries: r.maxRetries,
      lastError: r.lastError,
      pausedAt: r.pausedAt,
      notBefore: r.notBefore,
      hasCheckpoint: r.checkpoint !== null,
    },
  }
}

/** The beats of the live tasks among `tasks` (one batch: node-redis pipelines the reads of one turn). */
export async function beatsOf(state: SkaldStateReader | undefined, tasks: readonly Task[]): Promise<Map<string, TaskBeat>> {
  const out = new Map<string, TaskBeat>()
  if (!state) return out
  const live = tasks.filter((t) => LIVE.has(t.lifecycleStatus))
  // A state read that fails leaves the fields at their defaults: the task itself comes from the store.
  const beats = await Promise.all(live.map((t) => state.beat(t.id).catch(() => undefined)))
  for (const [i, t] of live.entries()) {
    const beat = beats[i]
    if (beat) out.set(t.id, beat)
  }
  return out
}

export async function viewTasks(state: SkaldStateReader | undefined, tasks: readonly Task[]): Promise<TaskResponse[]> {
  const beats = await beatsOf(state, tasks)
  return tasks.map((t) => toTaskResponse(t, beats.get(t.id)))
}
