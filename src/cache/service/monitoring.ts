// health() and statistics(): what an operator asks of the cache. Both answer within bounded time and never throw.
import type { CacheBackend } from '../backend.ts'
import type { CacheRuntime } from './runtime.ts'
import type { NamespaceStats } from './stats.ts'

import type { BreakerState } from '../backends/resilient.ts'

export type { BreakerState }

export interface CacheHealth {
  status: 'healthy' | 'degraded'
  /** ping round trip in ms, when the store answered */
  latencyMs?: number
  /** the circuit breaker of the Redis L2 (`closed` for backends without one) */
  breaker: BreakerState
  backend: 'redis' | 'memory'
  /** why it is degraded */
  error?: string
}

export interface CacheStatistics {
  /** live key counts per namespace (a parent's count includes its children's keys and internal tag/lock keys) */
  namespaces: Record<string, { keys?: number }>
  /** memory used by the store (Redis used_memory summed over masters; the memory backend's estimate) */
  memory: { usedBytes?: number }
  stats: Record<string, NamespaceStats>
}

/** The breaker state of a ResilientBackend (any backend exposing `state`); `closed` otherwise. */
export function breakerState(backend: CacheBackend): BreakerState {
  const state = (backend as { state?: unknown }).state
  return state === 'open' || state === 'half-open' ? state : 'closed'
}

export async function healthOf(backend: CacheBackend, timeoutMs: number): Promise<CacheHealth> {
  const kind = backend.kind
  try {
    const latencyMs = await withTimeout(backend.ping(), timeoutMs, 'ping')
    const breaker = breakerState(backend)
    if (breaker === 'closed') return { status: 'healthy', latencyMs, breaker, backend: kind }
    return { status: 'degraded', latencyMs, breaker, backend: kind, error: `circuit breaker is ${breaker}` }
  } catch (error) {
    return { status: 'degraded', breaker: breakerState(backend), backend: kind, error: error instanceof Error ? error.message : String(error) }
  }
}

export async function statisticsOf(runtime: CacheRuntime, namespaceNames: string[]): Promise<CacheStatistics> {
  const names = [...new Set(namespaceNames)].sort()
  const namespaces: Record<string, { keys?: number }> = {}
  // SCAN-based counts may take longer than one command; the bound keeps statistics() from hanging on a dead store.
  const bulkMs = runtime.timeoutMs * 30
  await Promise.all(
    names.map(async (ns) => {
      const keys = await withTimeout(runtime.backend.countMatching(`${runtime.globalPrefix}${ns}:*`), bulkMs, 'countMatching').catch(() => undefined)
      namespaces[ns] = keys === undefined ? {} : { keys }
    }),
  )
  const info = await withTimeout(runtime.backend.info(), runtime.timeoutMs, 'info').catch(() => undefined)
  const sorted: Record<string, { keys?: number }> = {}
  for (const ns of names) sorted[ns] = namespaces[ns]!
  return { namespaces: sorted, memory: info?.usedMemoryBytes === undefined ? {} : { usedBytes: info.usedMemoryBytes }, stats: runtime.stats.snapshot() }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
