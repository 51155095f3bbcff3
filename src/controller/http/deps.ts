// What the API's routes need from the rest of the controller, as small interfaces: the composition
// (src/controller/system-controller.ts) supplies them; tests may supply their own real ones.
import type { ControllerMode } from '../../config/env.ts'
import type { SkaldStateReader } from '../../state/reader.ts'
import type { TaskStore } from '../../store/task-store.ts'
import type { ControlPlane } from '../control-plane.ts'
import type { HealthReport } from '../health.ts'
import type { TaskCommands } from '../task-commands.ts'
import type { TaskReads } from '../task-reads.ts'

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
