// What the control plane decided, in order: for logs, alerts, live events (SSE) and tests. Listeners must not throw.
export type ControlEvent =
  | { type: 'leadership'; leader: boolean; token: number | undefined }
  /** `lastSeenAt`: the node's last activity timestamp (its clock), epoch ms; null when unknown */
  | { type: 'node-online' | 'node-offline'; skaldId: string; mode: 'node' | 'edge'; taskIds: string[]; lastSeenAt: number | null }
  /** `waitedMs`: since the task last became dispatchable (its updateDateTime before the claim), by this controller's clock */
  | { type: 'task-dispatched'; taskId: string; executor: string; epoch: number; className: string; waitedMs: number }
  /** the monitor's reading of a run changed the stored status (Python nodes, whose heartbeats say it) */
  | { type: 'task-status'; taskId: string; executor: string | null; from: string; to: string; reason: string | null }
  /** a run failed or stalled and will be dispatched again after `delayMs` */
  | { type: 'task-retrying'; taskId: string; attempt: number; delayMs: number; error: string }
  /** failed for good */
  | { type: 'task-failed'; taskId: string; className: string; executor: string | null; attempt: number; epoch: number; error: string }
  /** the task of a node that went offline: handed back to be dispatched again (`to` null), or Failed */
  | { type: 'task-failover'; taskId: string; from: string; epoch: number; requeued: boolean }
