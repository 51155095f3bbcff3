// /api/system/health: each service asked now, in parallel, each within a deadline. Healthy when all answer;
// degraded when a service the controller can do without fails (Redis: no live state or caches, the bus: no
// commands reach the nodes); unhealthy when the store fails (no task can be read or written).
import type { EventBus } from '../bus/types.ts'
import type { RedisConnection } from '../redis/connection.ts'
import type { TaskStore } from '../store/task-store.ts'

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'



export interface HealthReport {
  status: HealthStatus
  timestamp: number
  /** per service: its status, how long the check took (ms) and why it is not healthy */
  services: Record<string, { status: HealthStatus; latencyMs?: number; error?: string }>
}

export interface HealthChecksOptions {
  store: TaskStore
  redis: RedisConnection | undefined
  bus: EventBus | undefined
  /** per-check deadline, ms; default 2000 */
  timeoutMs?: number
}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<{ latencyMs: number; error?: string }> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return { latencyMs: Math.round((performance.now() - started) * 100) / 100 }
  } catch (error) {
    return { latencyMs: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) }
  } finally {
    clearTimeout(timer)
  }
}

export function createHealthCheck(options: HealthChecksOptions): () => Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 2000
  return async () => {
    const checks: Array<[string, boolean, () => Promise<unknown>]> = [['store', true, () => options.store.count({ lifecycleStatus: 'Running' })]]
    if (options.redis) {
      const redis = options.redis
      checks.push(['redis', false, () => redis.send(['PING'])])
    }
    if (options.bus) {
      const bus = options.bus
      checks.push([`bus:${bus.kind}`, false, () => bus.ping()])
    }
    const results = await Promise.all(checks.map(([, , check]) => timed(check, timeoutMs)))
    const services: HealthReport['services'] = {}
    let status: HealthStatus = 'healthy'
    checks.forEach(([name, essential], i) => {
      const r = results[i]!
      if (r.error === undefined) services[name] = { status: 'healthy', latencyMs: r.latencyMs }
      else {
        services[name] = { status: 'unhealthy', latencyMs: r.latencyMs, error: r.error }
        status = essential ? 'unhealthy' : status === 'unhealthy' ? status : 'degraded'
      }
    })
    return { status, timestamp: Date.now(), services }
  }
}
