// The alerts' options, field by field, with their defaults and units (docs/controller.md, "Alerts", has the table),
// validated with zod through src/config/options.ts so a bad one is an AlertsOptionsError naming the field; and the
// parser of SKALDS_ALERT_WEBHOOKS, whose errors are InvalidConfigError naming the variable, as loadConfig's are.
import { z } from 'zod'
import { InvalidConfigError } from '../config/errors.ts'
import type { Logger } from '../config/logger.ts'
import { fn, integer, nonEmptyString, number, oneOf, opaque, optionsObject, parseOptions, show } from '../config/options.ts'
import { SkaldsError } from '../model/errors.ts'

/** What an alert is about. */
export const ALERT_KINDS = ['task.failed', 'node.offline', 'task.failover'] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

/** The part of `fetch` the alerts use; default the global `fetch`. */
export type AlertsFetch = (url: string, init: RequestInit) => Promise<Response>

export interface AlertRetryOptions {
  /** attempts per delivery, the first one included; default 8 */
  maxAttempts?: number
  /** wait before the second attempt, ms; default 1000 */
  initialMs?: number
  /** each further wait is the previous one times this; default 2 */
  factor?: number
  /** longest wait between attempts (also caps a receiver's Retry-After), ms; default 60000 */
  maxMs?: number
}

export interface AlertRateLimitOptions {
  /** requests per minute to one webhook in the long run (token bucket refill); default 30 */
  perMinute?: number
  /** requests that may go out back to back before the rate applies (bucket size); default 10 */
  burst?: number
  /** the most alerts one coalesced request (a `batch`) carries; default 100 */
  coalesceMax?: number
}

export interface AlertWebhookOptions {
  /** `http://` or `https://` URL the alerts are POSTed to; no credentials in it (send them in `headers`) */
  url: string
  /** what logs and stats call it; default the URL's origin, so a secret in its path or query is never logged */
  name?: string
  /** the kinds sent to this webhook; default all */
  events?: readonly AlertKind[]
  /** extra request headers (e.g. `authorization`); `content-type` and `x-skalds-signature` are the sender's */
  headers?: Readonly<Record<string, string>>
  /** when set, each request carries `x-skalds-signature: sha256=<hex HMAC-SHA256 of the raw body>` */
  secret?: string
  /** one attempt's time limit (connect, answer and body), ms; default 10000 */
  timeoutMs?: number
  /** this webhook's own rate limit, field by field over the shared `rateLimit` */
  rateLimit?: AlertRateLimitOptions
}

export interface AlertsOptions {
  /** where alerts go besides the log; default none (log lines only) */
  webhooks?: readonly AlertWebhookOptions[]
  retry?: AlertRetryOptions
  /** per webhook: each has its own bucket */
  rateLimit?: AlertRateLimitOptions
  /** alerts waiting per webhook; beyond it the oldest are dropped (and counted); default 1000 */
  queueMax?: number
  /** put in every payload as `source` (e.g. the controller's id); default none */
  source?: string
  /** every alert is a `warn` line on it; default `createLogger('skalds:alerts')` */
  logger?: Logger
  /** default the global `fetch` */
  fetch?: AlertsFetch
}

/** The alerts' options are not valid; the message names the field (`alerts: webhooks[0].url: …`). */
export class AlertsOptionsError extends SkaldsError {
  constructor(message: string) {
    super('E_ALERTS_OPTIONS', message)
  }
}

export interface ResolvedRateLimit {
  perMinute: number
  burst: number
  coalesceMax: number
}

export interface ResolvedRetry {
  maxAttempts: number
  initialMs: number
  factor: number
  maxMs: number
}

export interface ResolvedWebhook {
  url: string
  name: string
  events: ReadonlySet<AlertKind>
  headers: Readonly<Record<string, string>>
  secret: string | undefined
  timeoutMs: number
  rateLimit: ResolvedRateLimit
}

export interface ResolvedAlertsOptions {
  webhooks: ResolvedWebhook[]
  retry: ResolvedRetry
  queueMax: number
  source: string | undefined
  logger: Logger | undefined
  fetch: AlertsFetch | undefined
}

export const ALERTS_DEFAULTS = {
  retry: { maxAttempts: 8, initialMs: 1000, factor: 2, maxMs: 60_000 },
  rateLimit: { perMinute: 30, burst: 10, coalesceMax: 100 },
  queueMax: 1000,
  timeoutMs: 10_000,
} as const

/** The headers the sender sets itself: a user header of the same name would be ignored, so it is refused. */
const RESERVED_HEADERS = ['content-type', 'content-length', 'x-skalds-signature', 'x-skalds-alert-id', 'x-skalds-alert-kind']
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Why `value` cannot be a webhook URL, or undefined when it can. */
export function webhookUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return `must be an http:// or https:// URL, got ${value === '' ? 'an empty string' : typeof value}`
  if (!URL.canParse(value)) return `is not a URL, got ${show(value)}`
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, got ${url.protocol}//…`
  if (url.username !== '' || url.password !== '') return `must not hold credentials (fetch refuses them); send them in headers, e.g. authorization`
  return undefined
}

const webhookUrl = z.custom<string>((value) => webhookUrlProblem(value) === undefined, { error: (issue) => webhookUrlProblem(issue.input) ?? 'invalid' })

const headerRecord = z.custom<Record<string, string>>(
  (value) => headersProblem(value) === undefined,
  { error: (issue) => headersProblem(issue.input) ?? 'invalid' },
)

function headersProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `must be an object of header name → string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`
  const seen = new Set<string>()
  for (const [name, v] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) return `${show(name)} is not a header name`
    if (seen.has(name.toLowerCase())) return `${name} is given twice (header names are case-insensitive)`
    seen.add(name.toLowerCase())
    if (RESERVED_HEADERS.includes(name.toLowerCase())) return `${name} is set by the sender and cannot be given`
    if (typeof v !== 'string') return `${name}: must be a string, got ${typeof v}`
    if (/[\r\n\0]/.test(v)) return `${name}: must not contain CR, LF or NUL`
  }
  return undefined
}

const rateLimitShape = {
  perMinute: number(0, 1_000_000, true).optional(),
  burst: integer(1).optional(),
  coalesceMax: integer(1).optional(),
}

const webhookSchema = optionsObject({
  url: webhookUrl,
  name: nonEmptyString().optional(),
  events: z
    .array(oneOf(ALERT_KINDS), { error: (issue) => `must be an array of alert kinds, got ${issue.input === null ? 'null' : typeof issue.input}` })
    .min(1, 'must list at least one kind (leave it out for all)')
    .optional(),
  headers: headerRecord.optional(),
  secret: nonEmptyString().optional(),
  timeoutMs: integer(1).optional(),
  rateLimit: optionsObject(rateLimitShape).optional(),
})

const alertsSchema = optionsObject({
  webhooks: z.array(webhookSchema, { error: (issue) => `must be an array of webhooks, got ${issue.input === null ? 'null' : typeof issue.input}` }).optional(),
  retry: optionsObject({
    maxAttempts: integer(1).optional(),
    initialMs: integer(0).optional(),
    factor: number(1, 1000).optional(),
    maxMs: integer(1).optional(),
  }).optional(),
  rateLimit: optionsObject(rateLimitShape).optional(),
  queueMax: integer(1).optional(),
  source: nonEmptyString().optional(),
  logger: opaque<Logger>().optional(),
  fetch: fn<AlertsFetch>('a function (url, init) => Promise<Response>').optional(),
})

const invalid = (message: string): AlertsOptionsError => new AlertsOptionsError(message)

/** Checks every field (errors read `alerts: field.path: reason`), then the rules between fields; resolves defaults. */
export function resolveAlertsOptions(options: AlertsOptions | undefined): ResolvedAlertsOptions {
  const o = parseOptions(alertsSchema, options ?? {}, invalid, 'alerts')
  const retry: ResolvedRetry = { ...ALERTS_DEFAULTS.retry, ...definedOnly(o.retry) }
  if (retry.initialMs > retry.maxMs) throw invalid(`alerts: retry.initialMs: must be at most retry.maxMs (${retry.maxMs}), got ${retry.initialMs}`)
  const rateLimit: ResolvedRateLimit = { ...ALERTS_DEFAULTS.rateLimit, ...definedOnly(o.rateLimit) }
  const webhooks = (o.webhooks ?? []).map((w): ResolvedWebhook => ({
    url: w.url,
    name: w.name ?? new URL(w.url).origin,
    events: new Set(w.events ?? ALERT_KINDS),
    // lower-cased, so a user `User-Agent` replaces ours instead of being sent beside it
    headers: Object.fromEntries(Object.entries(w.headers ?? {}).map(([name, v]) => [name.toLowerCase(), v])),
    secret: w.secret,
    timeoutMs: w.timeoutMs ?? ALERTS_DEFAULTS.timeoutMs,
    rateLimit: { ...rateLimit, ...definedOnly(w.rateLimit) },
  }))
  return { webhooks, retry, queueMax: o.queueMax ?? ALERTS_DEFAULTS.queueMax, source: o.source, logger: o.logger, fetch: o.fetch }
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {}
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * Parses a webhook list from an environment variable (`SKALDS_ALERT_WEBHOOKS` unless `variable` names another):
 * comma-separated entries, each a URL (all kinds) or `kind1|kind2@URL` (those kinds only), e.g.
 * `https://a.example/hook,task.failed|node.offline@https://b.example/x`. Blanks around entries and empty entries
 * are ignored; an empty value is no webhook. A bad entry throws InvalidConfigError naming the variable (and
 * `source`, the `.env` line it came from, as loadConfig does).
 */
export function parseAlertWebhooksEnv(value: string, variable = 'SKALDS_ALERT_WEBHOOKS', source = 'environment'): AlertWebhookOptions[] {
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  return entries.map((entry, index) => {
    const bad = (reason: string) => new InvalidConfigError(variable, `entry ${index + 1} (${show(entry)}): ${reason}`, source)
    // A kinds prefix is letters, dots and pipes before an `@`; a URL starts with `scheme:`, so the two never mix.
    const prefixed = /^([A-Za-z.|\s]+)@(.*)$/.exec(entry)
    const url = prefixed ? prefixed[2]!.trim() : entry
    const problem = webhookUrlProblem(url)
    if (problem !== undefined) throw bad(`the URL ${problem}`)
    if (!prefixed) return { url }
    const events = prefixed[1]!.split('|').map((kind) => kind.trim())
    for (const kind of events) {
      if (!(ALERT_KINDS as readonly string[]).includes(kind)) throw bad(`${show(kind)} is not an alert kind (known: ${ALERT_KINDS.join(', ')})`)
    }
    return { url, events: events as AlertKind[] }
  })
}
