// What the API's routes need from the rest of the controller, as small interfaces: the composition
// (src/controller/system-controller.ts) supplies them; tests may supply their own real ones.
import type { ControllerMode } from '../../config/env.ts'
import type { Task } from '../../model/task.ts'
import type { SkaldStateReader } from '../../state/reader.ts'
import type { StatusCounts, TaskListQuery, TaskPage, TaskStore } from '../../store/task-store.ts'
import type { ControlPlane } from '../control-plane.ts'
import type { TaskCommands } from '../task-commands.ts'

/** A change the API made or saw, so cached reads of it are dropped (here and in every other controller). */
export interface TaskChange {
  id: string
  kind: 'created' | 'status' | 'attachments' | 'cancelled' | 'deleted' | 'progress'
  executor?: string | null
  previousExecutor?: string | null
}

/** The reads the API serves: straight from the store, or through the task caches (seed 001). */
export interface TaskReads {
  task(id: string): Promise<Task | null>
  list(query: TaskListQuery): Promise<TaskPage>
  countByStatus(): Promise<StatusCounts>
  classNames(): Promise<string[]>
  /** the tasks whose executor is this Skald */
  skaldTasks(skaldId: string): Promise<Task[]>
  /** drop what is cached about this change; never throws */
  changed(change: TaskChange): Promise<void>
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

export interface HealthReport {
  status: HealthStatus
  timestamp: number
  /** per service: its status, how long the check took (ms) and why it is not healthy */
  services: Record<string, { status: HealthStatus; latencyMs?: number; error?: string }>
}

/** The settings `/api/system/config` shows (never a secret). */
export interface PublicConfig {
  host: string
  port: number
  monitorSkaldIntervalMs: number
  monitorTaskIntervalMs: number
  heartbeatTimeoutMs: number
  dispatcherIntervalMs: number
  dispatcherStrategy: string
  environment: string
  logLevel: string
  engines: { store: string; bus: string | null; state: string | null; cache: string | null }
}

export interface ControllerApiDeps {
  store: TaskStore
  reads: TaskReads
  commands: TaskCommands
  /** the monitors and dispatcher; their NodeMonitor is the API's view of the Skalds */
  plane: ControlPlane | undefined
  /** the Skalds' Redis state (heartbeats, progress, log); undefined = none configured */
  state: SkaldStateReader | undefined
  mode: ControllerMode
  health: () => Promise<HealthReport>
  config: PublicConfig
  /** whether this controller currently leads (several controllers) */
  isLeader: () => boolean
  version: string
  startedAt: number
  /** `POST /api/system/cleanup`: housekeeping now (e.g. the task caches' clean-up); resolves with what it did */
  cleanup: () => Promise<string[]>
}

/** The reads straight from the store: no caching. */
export function storeReads(store: TaskStore): TaskReads {
  return {
    task: (id) => store.get(id),
    list: (query) => store.list(query),
    countByStatus: () => store.countByStatus(),
    classNames: () => store.distinctClassNames(),
    skaldTasks: async (skaldId) => (await store.list({ executor: skaldId, limit: 10_000 })).items,
    changed: () => Promise.resolve(),
  }
}
