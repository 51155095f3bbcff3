// The controller's HTTP API as the CLI calls it: base URL and token from flags > environment > `.env`, the API's
// error shape `{error, code, status_code, path, details?}` turned into one line (exit 1), a server that does not
// answer into exit 3.
import { CliError, ExitCode, usageError } from './errors.ts'
import { type CliOptions, intFlag, settingFromDotenv, text } from './config.ts'

export const DEFAULT_CONTROLLER_URL = 'http://127.0.0.1:8000'

export interface ControllerClient {
  /** the base URL, without a trailing slash */
  readonly url: string
  readonly token: string | undefined
  /** a JSON request; resolves with the parsed body of a 2xx answer */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>
}

interface ApiErrorBody {
  error?: unknown
  code?: unknown
  status_code?: unknown
  details?: Array<{ field?: unknown; reason?: unknown }>
}

/** The API's refusal: its message, code and HTTP status. */
export class ApiError extends CliError {
  readonly status: number
  readonly code: string | undefined
  readonly body: unknown
  constructor(status: number, body: unknown) {
    const b = (typeof body === 'object' && body !== null ? body : {}) as ApiErrorBody
    const message = typeof b.error === 'string' ? b.error : `HTTP ${status}`
    const details = Array.isArray(b.details) ? b.details.map((d) => `${String(d.field)}: ${String(d.reason)}`).join('; ') : ''
    const code = typeof b.code === 'string' ? b.code : undefined
    super(`${message}${details && !message.includes(details) ? ` (${details})` : ''} [${code ?? 'HTTP'} ${status}]`, ExitCode.Failure)
    this.status = status
    this.code = code
    this.body = body
  }
}

/** The client for the commands' `--url`, `--token` and `--timeout` (commander has already read the environment). */
export function clientFrom(opts: CliOptions): ControllerClient {
  const envFile = text(opts.envFile)
  const raw = text(opts.url) ?? settingFromDotenv(envFile, 'SKALDS_CONTROLLER_URL') ?? DEFAULT_CONTROLLER_URL
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) throw usageError(`--url: must be an http:// or https:// URL (got ${JSON.stringify(raw)})`)
  const token = text(opts.token) ?? settingFromDotenv(envFile, 'SKALDS_API_TOKEN')
  const timeoutMs = intFlag('--timeout', opts.timeout ?? 15000, 1) ?? 15000
  return createClient(raw.replace(/\/+$/, ''), token, timeoutMs)
}

export function createClient(url: string, token: string | undefined, timeoutMs: number): ControllerClient {
  return {
    url,
    token,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json' }
      if (token) headers.authorization = `Bearer ${token}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      let response: Response
      try {
        response = await fetch(url + path, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (error) {
        throw unreachable(url, error)
      }
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = text === '' ? null : JSON.parse(text)
      } catch {
        // not JSON: kept as text for the message
      }
      if (!response.ok) throw new ApiError(response.status, parsed)
      return parsed as T
    },
  }
}

/** The one line a failed connection gets, with the cause's code (ECONNREFUSED, ENOTFOUND…) and what to check. */
export function unreachable(url: string, error: unknown): CliError {
  const e = error as { name?: string; cause?: { code?: string; message?: string }; message?: string }
  const reason = e?.name === 'TimeoutError' ? 'no answer in time' : (e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error))
  return new CliError(`cannot reach the controller at ${url}: ${reason} (is \`skalds controller\` running? set --url or SKALDS_CONTROLLER_URL)`, ExitCode.Unreachable, { cause: error })
}
