// How a run's outcome becomes the task's stored state: a pure decision, so the policy (wire §8.1.10: shutdown
// re-queues, never Cancels; retries bounded) is testable apart from the stores and hosts.
import { SkaldsError } from '../model/errors.ts'
import type { Task, TaskPatch } from '../model/task.ts'
import type { TaskOutcome } from '../worker/host.ts'
import type { ReportedEnding } from './task-reporter.ts'

/** Errors of the task manager; `code` is stable. */
export class TaskManagerError extends SkaldsError {}

/** Codes the manager records in `runtime.lastError` (as `CODE: message`) or throws. */
export const ManagerCode = {
  UnknownClass: 'E_SKALD_UNKNOWN_CLASS',
  Capacity: 'E_SKALD_CAPACITY',
  Deadline: 'E_SKALD_DEADLINE',
  Shutdown: 'E_SKALD_SHUTDOWN',
  UpdateRejected: 'E_SKALD_UPDATE_REJECTED',
  Options: 'E_SKALD_OPTIONS',
} as const

/** Worker failures a retry cannot fix: the same input fails the same way. */
const PERMANENT_CODES = new Set(['E_WORKER_ATTACHMENTS', 'E_WORKER_LOAD'])

export interface RetryPolicy {
  /** retries after the first run when neither the task (`runtime.maxRetries`) nor the class says; default 0 */
  maxRetries: number
  /** wait before the first retry, ms; default 1000 */
  initialMs: number
  /** growth per further retry; default 2 */
  factor: number
  /** cap, ms; default 60000 */
  maxMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 0, initialMs: 1000, factor: 2, maxMs: 60_000 }

/** Exponential backoff after the `attempt`-th run failed (1-based). */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1))
}

export type OutcomeDecision =
  /** write `patch` (compare-and-set on the epoch), then report `ending` */
  | { kind: 'write'; patch: TaskPatch; ending: ReportedEnding; status: 'Finished' | 'Failed' | 'Cancelled' | 'Paused' | 'Created' }
  /** record the error (compare-and-set) and run again after `delayMs` as attempt `attempt + 1` */
  | { kind: 'retry'; patch: TaskPatch; delayMs: number; error: string }
  /** another assignment owns the task: write nothing */
  | { kind: 'superseded' }

/** `CODE: message`, or just the message when it already starts with its code. */
export function errorText(code: string | null | undefined, message: string): string {
  if (!code || message.startsWith(code)) return message
  return `${code}: ${message}`
}

export interface OutcomeContext {
  task: Pick<Task, 'isPersistent'>
  /** runs started so far, this one included (runtime.attempt after it started) */
  attempt: number
  /** retries allowed after the first run */
  maxRetries: number
  policy: RetryPolicy
  skaldId: string
  /** the checkpoint to keep: the run's last one, else the stored one */
  checkpoint: Task['runtime']['checkpoint']
  now: number
}

export function decideOutcome(outcome: TaskOutcome, c: OutcomeContext): OutcomeDecision {
  switch (outcome.status) {
    case 'finished':
      // A finished task's checkpoint would make a later re-run resume at the end.
      return { kind: 'write', status: 'Finished', ending: { status: 'finished' }, patch: { lifecycleStatus: 'Finished', runtime: { lastError: null, checkpoint: null, pausedAt: null } } }
    case 'failed': {
      const error = errorText(outcome.error.code, outcome.error.message) + exitDetail(outcome)
      const retryable = !PERMANENT_CODES.has(outcome.error.code ?? '') && c.attempt <= c.maxRetries
      if (retryable) {
        return { kind: 'retry', error, delayMs: retryDelayMs(c.policy, c.attempt), patch: { runtime: { lastError: error, checkpoint: c.checkpoint } } }
      }
      return { kind: 'write', status: 'Failed', ending: { status: 'failed', error }, patch: { lifecycleStatus: 'Failed', runtime: { lastError: error, checkpoint: c.checkpoint } } }
    }
    case 'aborted':
      switch (outcome.reason) {
        case 'superseded':
          return { kind: 'superseded' }
        case 'cancelled':
          return { kind: 'write', status: 'Cancelled', ending: { status: 'cancelled' }, patch: { lifecycleStatus: 'Cancelled', runtime: { checkpoint: c.checkpoint } } }
        case 'paused':
          // No executor: no node holds it any more (a frozen task keeps its executor: its node holds it, stopped).
          return { kind: 'write', status: 'Paused', ending: { status: 'paused' }, patch: { lifecycleStatus: 'Paused', executor: null, runtime: { checkpoint: c.checkpoint, pausedAt: c.now } } }
        case 'deadline': {
          const error = `${ManagerCode.Deadline}: the task's deadlineDateTime passed while it ran`
          return { kind: 'write', status: 'Failed', ending: { status: 'failed', error }, patch: { lifecycleStatus: 'Failed', runtime: { lastError: error, checkpoint: c.checkpoint } } }
        }
        case 'shutdown':
          if (c.task.isPersistent) {
            // To be dispatched again (never Cancelled: wire §8.1.10), resuming from its checkpoint.
            return { kind: 'write', status: 'Created', ending: { status: 'requeued' }, patch: { lifecycleStatus: 'Created', executor: null, runtime: { checkpoint: c.checkpoint } } }
          }
          {
            const error = `${ManagerCode.Shutdown}: node ${c.skaldId} shut down while the non-persistent task ran`
            return { kind: 'write', status: 'Failed', ending: { status: 'failed', error }, patch: { lifecycleStatus: 'Failed', runtime: { lastError: error, checkpoint: c.checkpoint } } }
          }
      }
  }
}

function exitDetail(outcome: TaskOutcome): string {
  const parts: string[] = []
  if (outcome.exitCode !== null && outcome.exitCode !== 0) parts.push(`exit code ${outcome.exitCode}`)
  if (outcome.signal) parts.push(`signal ${outcome.signal}`)
  if (outcome.stderrTail.length > 0) parts.push(`stderr: ${outcome.stderrTail.slice(-5).join(' | ')}`)
  return parts.length ? ` (${parts.join('; ')})` : ''
}
