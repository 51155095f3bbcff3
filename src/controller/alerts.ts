// Alerts: a warn log line for every alert, and a POST to each configured webhook when a task fails for good, a
// node goes offline or a task fails over. emit() is synchronous and cheap: it logs, serializes once and queues per
// webhook; delivery (bounded queue, token bucket, retries with backoff) runs on its own, so a slow or dead receiver
// never delays the control loop (src/controller/alerts-delivery.ts). docs/controller.md, "Alerts", has the options,
// the payloads and the guarantees.
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger, type Logger } from '../config/logger.ts'
import { WebhookSender, type QueuedAlert, type WebhookStats } from './alerts-delivery.ts'
import { ALERT_KINDS, resolveAlertsOptions, type AlertKind, type AlertsOptions } from './alerts-options.ts'

export { ALERT_FORMAT_VERSION, parseRetryAfter, USER_AGENT, type WebhookStats } from './alerts-delivery.ts'
export {
  ALERT_KINDS,
  ALERTS_DEFAULTS,
  AlertsOptionsError,
  parseAlertWebhooksEnv,
  type AlertKind,
  type AlertRateLimitOptions,
  type AlertRetryOptions,
  type AlertsFetch,
  type AlertsOptions,
  type AlertWebhookOptions,
} from './alerts-options.ts'

/** A task failed for good: no retry is left (or it may not be retried). */
export interface TaskFailedAlert {
  kind: 'task.failed'
  taskId: string
  className: string
  /** the Skald that ran its last attempt; null when it never reached one (a deadline, a failed dependency) */
  executor: string | null
  /** the attempt that failed (1 = the first run) */
  attempt: number
  /** why it failed (cut to 4096 characters in the payload) */
  lastError: string
  /** the ownership epoch of the last run; when given, the alert's id tells runs apart even at equal attempts */
  epoch?: number
}

/** A Skald node went offline. */
export interface NodeOfflineAlert {
  kind: 'node.offline'
  skaldId: string
  /** its last activity, epoch ms; null when unknown */
  lastSeenAt: number | null
  /** the tasks it held when it went offline */
  taskIds: readonly string[]
}

/** A task of a node that went offline (or drained) was taken from it. */
export interface TaskFailoverAlert {
  kind: 'task.failover'
  taskId: string
  /** the Skald it was taken from */
  from: string
  /** the Skald it went to; null when it was handed back to be dispatched again */
  to: string | null
  /** the task's ownership epoch (fencing token) at the failover */
  epoch: number
}

export type AlertFields = TaskFailedAlert | NodeOfflineAlert | TaskFailoverAlert

/** What emit() takes: the fields of one kind, and optionally `at` (default now) and `id` (default derived). */
export type AlertInput = AlertFields & {
  /** when it happened, epoch ms; default now */
  at?: number
  /** the dedupe key; default derived from the alert's identity (see docs/controller.md) */
  id?: string
}

/** The JSON body of a request carrying one alert. */
export type AlertPayload = AlertFields & {
  id: string
  at: number
  /** the `source` option, when set */
  source?: string
}

/** The JSON body of a request carrying alerts the rate limit held back (`kind: 'batch'`). */
export interface AlertBatchPayload {
  kind: 'batch'
  /** derived from the ids of the alerts inside */
  id: string
  /** when the batch was formed, epoch ms */
  at: number
  source?: string
  count: number
  alerts: AlertPayload[]
}

export interface AlertsStats {
  /** alerts accepted by emit() (each logged, and queued for the webhooks that take its kind) */
  emitted: number
  /** emit() calls refused because the alert was malformed (logged as errors) */
  invalid: number
  webhooks: WebhookStats[]
}

export interface Alerts {
  /** Logs the alert and queues it for delivery. Synchronous: never throws, never waits on the network. */
  emit(alert: AlertInput): void
  /**
   * Resolves once every queued alert was delivered or given up, or after `timeoutMs` (default 10000) with some
   * still pending (stats() tells). Never rejects. Rate-limit waits and retry backoff count against the timeout.
   */
  flush(timeoutMs?: number): Promise<void>
  /**
   * Stops delivery at once: the requests in flight are aborted, no retry follows, what is pending is discarded
   * (counted in stats). Call flush() first to give pending alerts a chance. Later emit() calls still log.
   */
  close(): Promise<void>
  stats(): AlertsStats
}

const MAX_ERROR_CHARS = 4096

/** A malformed emit() argument; caught inside emit(), never thrown out of it. */
class BadAlert extends Error {}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new BadAlert(`${field}: must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : typeof value}`)
  return value
}
function textOrNull(value: unknown, field: string): string | null {
  return value === null || value === undefined ? null : text(value, field)
}
function int(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new BadAlert(`${field}: must be an integer >= 0, got ${String(value)}`)
  return value
}
function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new BadAlert(`${field}: must be epoch ms, got ${String(value)}`)
  return value
}

/** The dedupe key: the same event gives the same id, in any process (two controllers, a restarted one). */
function idOf(kind: AlertKind, parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify([kind, ...parts])).digest('hex').slice(0, 32)
}

/** Checks the alert's fields (only those of its kind are kept) and builds its payload. */
export function alertPayload(input: AlertInput, source?: string, now = Date.now()): AlertPayload {
  if (typeof input !== 'object' || input === null) throw new BadAlert(`must be an object, got ${input === null ? 'null' : typeof input}`)
  const at = input.at === undefined ? now : time(input.at, 'at')
  const given = input.id === undefined ? undefined : text(input.id, 'id')
  const meta = (id: string) => ({ id: given ?? id, at, ...(source === undefined ? {} : { source }) })
  switch (input.kind) {
    case 'task.failed': {
      const taskId = text(input.taskId, 'taskId')
      const attempt = int(input.attempt, 'attempt')
      const epoch = input.epoch === undefined ? undefined : int(input.epoch, 'epoch')
      const error = typeof input.lastError === 'string' ? input.lastError : String(input.lastError)
      return {
        kind: 'task.failed',
        ...meta(idOf('task.failed', [taskId, epoch ?? null, attempt])),
        taskId,
        className: text(input.className, 'className'),
        executor: textOrNull(input.executor, 'executor'),
        attempt,
        lastError: error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 1)}…` : error,
        ...(epoch === undefined ? {} : { epoch }),
      }
    }
    case 'node.offline': {
      const skaldId = text(input.skaldId, 'skaldId')
      const lastSeenAt = input.lastSeenAt === null || input.lastSeenAt === undefined ? null : time(input.lastSeenAt, 'lastSeenAt')
      if (!Array.isArray(input.taskIds)) throw new BadAlert(`taskIds: must be an array of task ids, got ${typeof input.taskIds}`)
      const taskIds = input.taskIds.map((id, i) => text(id, `taskIds[${i}]`))
      return { kind: 'node.offline', ...meta(idOf('node.offline', [skaldId, lastSeenAt ?? at])), skaldId, lastSeenAt, taskIds }
    }
    case 'task.failover': {
      const taskId = text(input.taskId, 'taskId')
      const from = text(input.from, 'from')
      const epoch = int(input.epoch, 'epoch')
      return { kind: 'task.failover', ...meta(idOf('task.failover', [taskId, from, epoch])), taskId, from, to: textOrNull(input.to, 'to'), epoch }
    }
    default:
      throw new BadAlert(`kind: must be one of ${ALERT_KINDS.join(', ')}, got ${JSON.stringify((input as { kind?: unknown }).kind) ?? 'undefined'}`)
  }
}

/** The log line's message. */
function describe(alert: AlertPayload): string {
  switch (alert.kind) {
    case 'task.failed':
      return `alert task.failed: task ${alert.taskId} (${alert.className}) failed for good at attempt ${alert.attempt}${alert.executor === null ? '' : ` on ${alert.executor}`}: ${alert.lastError}`
    case 'node.offline':
      return `alert node.offline: Skald ${alert.skaldId} is offline (last seen ${alert.lastSeenAt === null ? 'never' : new Date(alert.lastSeenAt).toISOString()}), it held ${alert.taskIds.length} task(s)`
    case 'task.failover':
      return `alert task.failover: task ${alert.taskId} taken from ${alert.from} (epoch ${alert.epoch}), ${alert.to === null ? 'handed back to be dispatched again' : `given to ${alert.to}`}`
  }
}

/** The logger with every call guarded: a logger that throws must not break emit(), a delivery, or close(). */
function neverThrowing(logger: Logger): Logger {
  const guard =
    (method: Logger['warn']): Logger['warn'] =>
    (objOrMsg, msg) => {
      try {
        method.call(logger, objOrMsg, msg)
      } catch {
        // nothing to do: the log is where such a fault would be reported
      }
    }
  return {
    debug: guard(logger.debug),
    info: guard(logger.info),
    warn: guard(logger.warn),
    error: guard(logger.error),
    child: (bindings) => neverThrowing(logger.child(bindings)),
  }
}

/** Builds the alerts from options (AlertsOptionsError naming the field when one is bad). */
export function createAlerts(options: AlertsOptions = {}): Alerts {
  const o = resolveAlertsOptions(options)
  const logger = neverThrowing(o.logger ?? createLogger('skalds:alerts'))
  const fetchFn = o.fetch ?? ((url: string, init: RequestInit) => fetch(url, init))
  const senders = o.webhooks.map((hook) => new WebhookSender(hook, { retry: o.retry, queueMax: o.queueMax, source: o.source, fetch: fetchFn, logger }))
  let emitted = 0
  let invalid = 0
  let closing: Promise<void> | undefined

  return {
    emit(alert) {
      try {
        let payload: AlertPayload
        try {
          payload = alertPayload(alert, o.source)
        } catch (error) {
          invalid++
          logger.error({ err: error }, `alert dropped: ${error instanceof BadAlert ? error.message : String(error)}`)
          return
        }
        emitted++
        logger.warn({ alert: payload }, describe(payload))
        if (senders.length === 0) return
        const queued: QueuedAlert = { id: payload.id, kind: payload.kind, at: payload.at, json: JSON.stringify(payload) }
        for (const sender of senders) if (sender.accepts(queued.kind)) sender.enqueue(queued)
      } catch {
        // emit() never throws into the control loop (a logger that throws, …)
      }
    },

    async flush(timeoutMs = 10_000) {
      const abort = new AbortController()
      await Promise.race([
        Promise.all(senders.map((sender) => sender.idle())),
        sleep(timeoutMs, undefined, { signal: abort.signal }).catch(() => {}),
      ])
      abort.abort()
    },

    close() {
      closing ??= Promise.all(senders.map((sender) => sender.close())).then(() => {})
      return closing
    },

    stats() {
      return { emitted, invalid, webhooks: senders.map((sender) => sender.stats()) }
    },
  }
}
