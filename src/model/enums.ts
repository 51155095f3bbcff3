// The Skalds enums as `as const` objects: the values are the exact, case-sensitive strings of the wire format.

/** How a task is started (wire §4.1). */
export const ModeEnum = {
  /** started by an edge node from its YAML file; monitored, never dispatched */
  Active: 'Active',
  /** dispatched by the controller to a node-mode Skald */
  Passive: 'Passive',
  /** run by a single_process Skald; neither monitored nor dispatched */
  PassiveProcess: 'PassiveProcess',
} as const
export type ModeEnum = (typeof ModeEnum)[keyof typeof ModeEnum]
export const MODES: readonly ModeEnum[] = Object.values(ModeEnum)

/** Where a task is in its life (wire §4.1). */
export const TaskLifecycleStatus = {
  Created: 'Created',
  Assigning: 'Assigning',
  Running: 'Running',
  Paused: 'Paused',
  Finished: 'Finished',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
} as const
export type TaskLifecycleStatus = (typeof TaskLifecycleStatus)[keyof typeof TaskLifecycleStatus]
export const LIFECYCLE_STATUSES: readonly TaskLifecycleStatus[] = Object.values(TaskLifecycleStatus)

/** The mode a Skald node runs in (lowercase on the wire, e.g. in `skalds:mode:hash`). */
export const SkaldModeEnum = {
  Edge: 'edge',
  Node: 'node',
  SingleProcess: 'single_process',
} as const
export type SkaldModeEnum = (typeof SkaldModeEnum)[keyof typeof SkaldModeEnum]
export const SKALD_MODES: readonly SkaldModeEnum[] = Object.values(SkaldModeEnum)

/** The System Controller's modes (uppercase, `SYSTEM_CONTROLLER_MODE`). */
export const SystemControllerModeEnum = {
  Controller: 'CONTROLLER',
  Monitor: 'MONITOR',
  Dispatcher: 'DISPATCHER',
} as const
export type SystemControllerModeEnum = (typeof SystemControllerModeEnum)[keyof typeof SystemControllerModeEnum]

/** Dispatcher strategies (uppercase, `DISPATCHER_STRATEGY`). */
export const DispatcherStrategyEnum = {
  LeastTasks: 'LEAST_TASKS',
  RoundRobin: 'ROUND_ROBIN',
  Random: 'RANDOM',
} as const
export type DispatcherStrategyEnum = (typeof DispatcherStrategyEnum)[keyof typeof DispatcherStrategyEnum]

/**
 * Terminal values of `task:{id}:heartbeat` (wire §4.5). While a worker runs, the key holds a value in
 * 0..{@link HEARTBEAT_RUNNING_MAX} that changes on every write.
 */
export const HeartbeatCode = {
  Finished: 200,
  Failed: -1,
  Cancelled: -2,
} as const
export type HeartbeatCode = (typeof HeartbeatCode)[keyof typeof HeartbeatCode]

/** Largest value a running heartbeat may take (inclusive). */
export const HEARTBEAT_RUNNING_MAX = 199

/** The lifecycle status a terminal heartbeat code stands for, or undefined for a running value. */
export function statusOfHeartbeat(value: number): TaskLifecycleStatus | undefined {
  switch (value) {
    case HeartbeatCode.Finished:
      return TaskLifecycleStatus.Finished
    case HeartbeatCode.Failed:
      return TaskLifecycleStatus.Failed
    case HeartbeatCode.Cancelled:
      return TaskLifecycleStatus.Cancelled
    default:
      return undefined
  }
}
