// Starting a fixture worker on a host and watching its events, for the worker host contract and unit tests.
import type { HookName, StartRequest, TaskRun, WorkerEvent, WorkerHost } from '../../src/worker/index.ts'
import { waitFor } from './wait.ts'

/** The module of a fixture under test/fixtures/workers. */
export const fixture = (name: string): StartRequest['worker'] => ({ module: new URL(`../fixtures/workers/${name}.ts`, import.meta.url) })

export interface WatchedRun {
  run: TaskRun
  events: WorkerEvent[]
  /** performance.now() at each event's arrival, index for index */
  arrivals: number[]
  /** hooks the runtime reported entering, in order */
  hooks(): HookName[]
  /** the task logger's lines, parsed (pino JSON) */
  logged(): Array<Record<string, unknown>>
  /** logged lines that carry a `hook` field, as their hook names, in order */
  loggedHooks(): string[]
  progress(): Array<Extract<WorkerEvent, { type: 'progress' }>>
  /** polls until an event matches (generous deadline) */
  waitForEvent<T extends WorkerEvent>(match: (event: WorkerEvent) => event is T, what: string, timeoutMs?: number): Promise<T>
  waitForEvent(match: (event: WorkerEvent) => boolean, what: string, timeoutMs?: number): Promise<WorkerEvent>
}

let nextTask = 0

export function startWatched(host: WorkerHost, request: Omit<StartRequest, 'taskId' | 'onEvent'> & { taskId?: string }): WatchedRun {
  const events: WorkerEvent[] = []
  const arrivals: number[] = []
  const run = host.start({
    taskId: `task-${process.pid}-${++nextTask}`,
    ...request,
    onEvent: (event) => {
      events.push(event)
      arrivals.push(performance.now())
    },
  })
  const logged = (): Array<Record<string, unknown>> =>
    events.flatMap((e) => (e.type === 'log' && e.source === 'logger' ? [JSON.parse(e.line) as Record<string, unknown>] : []))
  return {
    run,
    events,
    arrivals,
    hooks: () => events.flatMap((e) => (e.type === 'hook' ? [e.hook] : [])),
    logged,
    loggedHooks: () => logged().flatMap((line) => (typeof line.hook === 'string' ? [line.hook] : [])),
    progress: () => events.filter((e): e is Extract<WorkerEvent, { type: 'progress' }> => e.type === 'progress'),
    waitForEvent: (match: (event: WorkerEvent) => boolean, what: string, timeoutMs = 20_000) =>
      waitFor(() => events.find(match), what, timeoutMs) as Promise<WorkerEvent>,
  }
}

/** Whether a process exists (signal 0). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The scheduler state letter of a Linux process (`T` = stopped), from /proc. */
export async function processState(pid: number): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}
