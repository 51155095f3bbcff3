// The API's shapes the pages use, named from the generated schema (schema.d.ts), plus the cache statistics, whose
// route the controller documents only as an object (their fields are TaskCacheStats in src/controller/task-cache).
import type { components, paths } from './schema'

export type Task = components['schemas']['Task']
export type Skald = components['schemas']['Skald']
export type ApiErrorBody = components['schemas']['Error']
export type CreateTaskBody = components['schemas']['CreateTask']
export type TaskStatus = Task['lifecycleStatus']
export type TaskListQuery = NonNullable<paths['/api/tasks']['get']['parameters']['query']>
export type Summary = paths['/api/system/dashboard/summary']['get']['responses'][200]['content']['application/json']
export type Heartbeat = paths['/api/tasks/{task_id}/heartbeat']['get']['responses'][200]['content']['application/json']
export type Progress = paths['/api/tasks/{task_id}/progress']['get']['responses'][200]['content']['application/json']
export type Checkpoint = paths['/api/tasks/{task_id}/checkpoint']['get']['responses'][200]['content']['application/json']
export type Health = paths['/api/system/health']['get']['responses'][200]['content']['application/json']
export type TaskTimeline = paths['/api/tasks/{task_id}/timeline']['get']['responses'][200]['content']['application/json']
export type TimelineEntry = TaskTimeline['entries'][number]

export const STATUSES: readonly TaskStatus[] = ['Created', 'Assigning', 'Running', 'Paused', 'Finished', 'Failed', 'Cancelled']
export const LIVE_STATUSES: readonly TaskStatus[] = ['Created', 'Assigning', 'Running', 'Paused']

export interface CacheCounters {
  hitRate: number
  hits: number
  misses: number
  errors: number
  keys?: number
  ttlMs?: number
}

export interface CacheStats {
  enabled: boolean
  namespace?: string
  types: Record<string, CacheCounters>
  overall: CacheCounters
  memory: { usedBytes?: number }
  connection: { backend: string; status: string; breaker?: string; latencyMs?: number; error?: string; ready?: boolean }
  bypassing: boolean
  counters: Record<string, number>
}
