// The typed API client: openapi-fetch over the generated paths, the token sent as Bearer on every call, and one
// error type whatever failed (the API's error body, a non-JSON answer, or no answer at all).
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { getToken } from './token.ts'
import type { ApiErrorBody } from './types.ts'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: { field: string; reason: string }[]
  constructor(status: number, code: string, message: string, details: { field: string; reason: string }[] = []) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

type Unauthorized = () => void
const unauthorizedListeners = new Set<Unauthorized>()
/** Called on every 401, so the app can ask for the token. */
export function onUnauthorized(listener: Unauthorized): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken()
    if (token) request.headers.set('authorization', `Bearer ${token}`)
    return request
  },
  onResponse({ response }) {
    if (response.status === 401) for (const listener of unauthorizedListeners) listener()
    return response
  },
}

export const api = createClient<paths>({ baseUrl: window.location.origin })
api.use(auth)

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string'
}

/** The error of a failed call as an ApiError: the API's message, code and details when it sent its error shape. */
export function toApiError(error: unknown, response?: Response): ApiError {
  if (error instanceof ApiError) return error
  if (isErrorBody(error)) return new ApiError(error.status_code, error.code, error.error, error.details ?? [])
  if (response) return new ApiError(response.status, `E_HTTP_${response.status}`, `${response.status} ${response.statusText || 'error'}`)
  const message = error instanceof Error ? error.message : String(error)
  return new ApiError(0, 'E_NETWORK', `the controller did not answer (${message})`)
}

/**
 * Awaits an openapi-fetch call and returns its data, or throws an ApiError. Every call of the app goes through it,
 * so no page handles a raw failure.
 */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await request
  } catch (error) {
    throw toApiError(error)
  }
  if (result.error !== undefined || !result.response.ok) throw toApiError(result.error, result.response)
  return result.data as T
}
