// Redis key names of the Skalds wire format (wire §1.2), exact: no prefixes, no hash tags.
// A TS node or controller must use these to be seen by, and to see, Python Skalds.

/** HASH: field = skaldId, value = last-activity epoch ms as a decimal integer string. */
export const SKALDS_HASH_KEY = 'skalds:hash'

/** HASH: field = skaldId, value = `node` | `edge` (a missing field means `node`). */
export const SKALDS_MODE_HASH_KEY = 'skalds:mode:hash'

/** STRING: the node's heartbeat, 0..199, `SET … EX 8` every 3 s (not used for liveness by Python). */
export function skaldHeartbeatKey(skaldId: string): string {
  return `skalds:${skaldId}:heartbeat`
}

/** LIST: the worker class names the node can run, in registration order. */
export function skaldAllowTaskClassNameKey(skaldId: string): string {
  return `skalds:${skaldId}:allow-task-class-name`
}

/** STRING: JSON `{"tasks":[{"id","class_name"}],"existed_task_ids":[…],"timestamp":ms}` (see all-task.ts). */
export function skaldAllTaskKey(skaldId: string): string {
  return `skalds:${skaldId}:all-task`
}

/** The glob the Python controller uses to delete every per-skald key (it breaks on ids holding `*?[]`). */
export function skaldKeysPattern(skaldId: string): string {
  return `skalds:${skaldId}:*`
}

/** STRING: 0..199 while running (EX 8), then 200 / -1 / -2 (see HeartbeatCode). */
export function taskHeartbeatKey(taskId: string): string {
  return `task:${taskId}:heartbeat`
}

/** STRING: free-form non-fatal error text written by user code; no framework writer. */
export function taskHasErrorKey(taskId: string): string {
  return `task:${taskId}:has-error`
}

/** STRING: `str(exception)` of the fatal error, `""` when none; no TTL. */
export function taskExceptionKey(taskId: string): string {
  return `task:${taskId}:exception`
}

/** Timings the Python peers hard-code (wire §7.1), in the units named. */
export const WireTimings = {
  /** period of node activity, node heartbeat, worker heartbeat and the all-task sync: 3000 ms */
  heartbeatPeriodMs: 3000,
  /** `EX` of running heartbeats: 8 s (period + 5) */
  heartbeatTtlSeconds: 8,
  /** TTL of hash fields, lists, all-task and terminal heartbeats (`REDIS_KEY_TTL`): 3600 s */
  redisKeyTtlSeconds: 3600,
  /** a skald whose `skalds:hash` value is older than this is offline and its keys are deleted: 10000 ms */
  skaldOnlineTimeoutMs: 10_000,
} as const
