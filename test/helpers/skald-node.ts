// A node-mode TaskWorkerManager wired to a bus and a store for tests, with a recording TaskReporter (a fake:
// the Redis wire-state writer is built on another branch) and every NodeEvent kept in order.
import type { EventBus } from '../../src/bus/types.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createTaskEvent, toWireTaskEvent } from '../../src/model/events.ts'
import type { Task, TaskInput } from '../../src/model/task.ts'
import { Topic } from '../../src/model/topics.ts'
import type { TaskStore } from '../../src/store/task-store.ts'
import type { WorkerEvent } from '../../src/worker/host.ts'
import { TASK_PAUSE_TOPIC, type NodeEvent } from '../../src/skald/node-events.ts'
import { TaskWorkerManager, type TaskWorkerManagerOptions } from '../../src/skald/task-manager.ts'
import type { ReportedEnding, TaskReporter } from '../../src/skald/task-reporter.ts'
import { waitFor } from './wait.ts'
import { fixture } from './worker-run.ts'

export type ReporterCall =
  | { call: 'started'; taskId: string; epoch: number; className: string }
  | { call: 'alive' | 'progress' | 'checkpoint' | 'log'; taskId: string; epoch: number }
  | { call: 'ended'; taskId: string; epoch: number; ending: ReportedEnding }

/** Records every call; alive/progress/checkpoint without their values (only that they came, and when). */
export class RecordingReporter implements TaskReporter {
  readonly calls: ReporterCall[] = []
  started(taskId: string, epoch: number, className: string): void {
    this.calls.push({ call: 'started', taskId, epoch, className })
  }
  alive(taskId: string, epoch: number): void {
    this.calls.push({ call: 'alive', taskId, epoch })
  }
  progress(taskId: string, epoch: number): void {
    this.calls.push({ call: 'progress', taskId, epoch })
  }
  checkpoint(taskId: string, epoch: number): void {
    this.calls.push({ call: 'checkpoint', taskId, epoch })
  }
  log(taskId: string, epoch: number): void {
    this.calls.push({ call: 'log', taskId, epoch })
  }
  ended(taskId: string, epoch: number, ending: ReportedEnding): void {
    this.calls.push({ call: 'ended', taskId, epoch, ending })
  }
  of(taskId: string): ReporterCall[] {
    return this.calls.filter((c) => c.taskId === taskId)
  }
}

/** The fixture workers under test/fixtures/workers, by class name. */
export const FIXTURE_CLASSES: TaskWorkerManagerOptions['workers'] = {
  NormalWorker: { worker: fixture('normal') },
  SlowWorker: { worker: fixture('slow') },
  CheckpointingWorker: { worker: fixture('checkpointing') },
  UpdatingWorker: { worker: fixture('updating') },
  ThrowingWorker: { worker: fixture('throws'), maxRetries: 2 },
}

export interface TestNode {
  manager: TaskWorkerManager
  reporter: RecordingReporter
  events: NodeEvent[]
  /** performance.now() at each event, index for index */
  at: number[]
  /** the worker events of one task, in order */
  workerEvents(taskId: string): WorkerEvent[]
  /** the hooks the task's runs entered, in order */
  hooks(taskId: string): string[]
  /** the task logger's lines, parsed */
  logged(taskId: string): Array<Record<string, unknown>>
  waitEvent<T extends NodeEvent>(match: (e: NodeEvent) => e is T, what: string, timeoutMs?: number): Promise<T>
  waitEvent(match: (e: NodeEvent) => boolean, what: string, timeoutMs?: number): Promise<NodeEvent>
  /** waits for the task's `task-ended` event and returns the stored task */
  ended(taskId: string, timeoutMs?: number): Promise<Task>
}

export async function startNode(
  skaldId: string,
  bus: EventBus,
  store: TaskStore,
  options: Partial<TaskWorkerManagerOptions> = {},
): Promise<TestNode> {
  const reporter = new RecordingReporter()
  const events: NodeEvent[] = []
  const at: number[] = []
  const manager = new TaskWorkerManager({
    skaldId,
    bus,
    store,
    workers: FIXTURE_CLASSES,
    reporter,
    logger: silentLogger,
    retry: { initialMs: 10, factor: 2, maxMs: 100 },
    ...options,
    onEvent: (e) => {
      events.push(e)
      at.push(performance.now())
    },
  })
  await manager.start()
  const workerEvents = (taskId: string): WorkerEvent[] => events.flatMap((e) => (e.type === 'worker' && e.taskId === taskId ? [e.event] : []))
  const waitEvent = async (match: (e: NodeEvent) => boolean, what: string, timeoutMs = 20_000): Promise<NodeEvent> => {
    const found = await waitFor(() => events.find(match), what, timeoutMs)
    if (!found) throw new Error(`no event: ${what}`)
    return found
  }
  return {
    manager,
    reporter,
    events,
    at,
    workerEvents,
    hooks: (taskId) => workerEvents(taskId).flatMap((e) => (e.type === 'hook' ? [e.hook] : [])),
    logged: (taskId) => workerEvents(taskId).flatMap((e) => (e.type === 'log' && e.source === 'logger' ? [JSON.parse(e.line) as Record<string, unknown>] : [])),
    waitEvent,
    ended: async (taskId, timeoutMs = 20_000) => {
      await waitEvent((e) => e.type === 'task-ended' && e.taskId === taskId, `${taskId} to end on ${skaldId}`, timeoutMs)
      return (await store.get(taskId))!
    },
  }
}

let seq = 0
/** A task id unique to this process and run. */
export const taskId = (label: string): string => `${label}-${process.pid}-${Date.now().toString(36)}-${++seq}`

/** Creates the task, claims it for `executor` (epoch + 1) and publishes `task.assign`, as a dispatcher does. */
export async function createAndAssign(bus: EventBus, store: TaskStore, executor: string, input: Omit<TaskInput, 'source'> & { source?: string }): Promise<Task> {
  await store.create({ source: 'test', ...input })
  const task = await store.claim(input.id, { executor })
  await publish(bus, Topic.TaskAssign, input.id)
  return task
}

/** Publishes a controller-shaped TaskEvent about one task. */
export function publish(bus: EventBus, topic: string, id: string): Promise<void> {
  return bus.publish(topic, id, toWireTaskEvent(createTaskEvent(id)))
}

export { TASK_PAUSE_TOPIC, Topic }
