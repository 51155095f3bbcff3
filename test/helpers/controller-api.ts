// A System Controller with its HTTP API on the embedded engines, plus a tiny JSON client for its routes.
import { silentLogger } from '../../src/config/logger.ts'
import { SystemController, type SystemControllerOptions } from '../../src/controller/system-controller.ts'
import type { EventBus } from '../../src/bus/types.ts'
import type { SkaldStateBackend } from '../../src/state/backend.ts'
import type { TaskStore } from '../../src/store/task-store.ts'

export interface ApiReply<T = Record<string, unknown>> {
  status: number
  body: T
  headers: Headers
}

export interface ApiClient {
  url: string
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply<T>>
}

export function apiClient(url: string, defaults: Record<string, string> = {}): ApiClient {
  return {
    url,
    async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const init: RequestInit = { method, headers: { ...defaults, ...headers } }
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body)
        init.headers = { 'content-type': 'application/json', ...defaults, ...headers }
      }
      const response = await fetch(url + path, init)
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // not JSON (the docs UI): kept as text
      }
      return { status: response.status, body: parsed as T, headers: response.headers }
    },
  }
}

/** A controller on `engines` listening on a free port, with short intervals; `overrides` win. */
export async function startController(engines: { store: TaskStore; bus: EventBus; state: SkaldStateBackend }, overrides: Partial<SystemControllerOptions> = {}): Promise<SystemController> {
  return SystemController.start({
    store: engines.store,
    bus: engines.bus,
    state: engines.state,
    leadership: false,
    plane: { nodeIntervalMs: 100, taskIntervalMs: 3000, dispatchIntervalMs: 200, offlineAfterMs: 1000 },
    feedIntervalMs: 100,
    logger: silentLogger,
    ...overrides,
    api: overrides.api === false ? false : { port: 0, logLevel: 'silent', ...overrides.api },
  })
}
