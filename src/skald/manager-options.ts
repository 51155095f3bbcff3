// The TaskWorkerManager's options, field by field, with their defaults and units (docs/skald-node.md has the table).
import type { EventBus } from '../bus/types.ts'
import type { Logger } from '../config/logger.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { AnyHostOptions } from '../worker/create-host.ts'
import type { Isolation } from '../worker/definition.ts'
import type { WorkerHost } from '../worker/host.ts'
import type { WorkerClass } from './local-task.ts'
import type { NodeEvent } from './node-events.ts'
import type { RetryPolicy } from './task-outcome.ts'
import type { TaskReporter } from './task-reporter.ts'

export type ManagerMode = 'node' | 'edge' | 'single_process'

export interface TaskWorkerManagerOptions {
  skaldId: string
  /**
   * `node` (default): tasks arrive as `task.assign`; a node at its limit hands a task back (Created, no executor).
   * `edge` / `single_process`: tasks are handed in with `admit()` (the YAML file), a task refused at the limit is
   * Failed (no dispatcher would pick it up again), and single_process takes no `task.assign` (an edge does: the
   * resume of a paused YAML task is one).
   */
  mode?: ManagerMode
  /** the Event Queue; without one (an edge or single_process Skald without Kafka) only `admit()` brings tasks */
  bus?: EventBus
  store: TaskStore
  /** className → worker (exact, case-sensitive) */
  workers: Readonly<Record<string, WorkerClass>>
  /** builds the host of an isolation mode, once per mode; default `createWorkerHost(isolation, hostOptions)` */
  createHost?: (isolation: Isolation) => WorkerHost
  hostOptions?: AnyHostOptions
  /** the wire-state writer (Redis heartbeats); default writes nothing */
  reporter?: TaskReporter
  limits?: {
    /** tasks at once on this node (running or waiting to retry); default 16 in node mode, no limit otherwise */
    maxTasks?: number
    /** per class; overrides WorkerClass.maxConcurrent */
    perClass?: Readonly<Record<string, number>>
  }
  retry?: Partial<RetryPolicy>
  /** how often running tasks are checked against the store (epoch, executor) and their checkpoint saved, ms; default 3000 */
  fenceIntervalMs?: number
  /** close(): how long running tasks may finish before they are aborted with `shutdown`, ms; default 10000 */
  drainTimeoutMs?: number
  /** default `nodeGroupId(skaldId)`: each node its own group, so every node sees every event */
  group?: string
  onEvent?: (event: NodeEvent) => void
  logger?: Logger
}

