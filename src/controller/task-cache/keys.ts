// Keys of the task caches, inside their CacheService namespace `<root>:skalds-task-cache:<type>:`. Ids go in behind
// a one-letter prefix, so an id starting with `__` (reserved by the cache for its lock and tag keys) is still a key.
// A list query is canonicalised (defaults filled, filter arrays sorted and deduplicated, object keys sorted) and
// hashed: the same query written another way is one key, and keys stay short whatever the query holds.
import { createHash } from 'node:crypto'
import { normalizeQuery, type NormalQuery } from '../../store/query.ts'
import type { TaskListQuery } from '../../store/task-store.ts'
import type { TaskCacheType } from './options.ts'

/** The child namespace of each cache type (under the task caches' namespace). */
export const TYPE_NAMESPACE: Readonly<Record<TaskCacheType, string>> = {
  status: 'status',
  progress: 'progress',
  statistics: 'statistics',
  list: 'list',
  skaldTasks: 'skald-tasks',
  execution: 'execution',
}

/** Tag of every list page: one invalidateTags drops them all (SSCAN of one set, not a SCAN of the keyspace). */
export const LIST_TAG = 'pages'
/** Tag of every per-Skald list, for a change whose executors are not known. */
export const SKALD_TAG = 'skalds'

/** status / progress / execution key of a task */
export function taskKey(id: string): string {
  return `t:${id}`
}

/** skaldTasks key of a Skald */
export function skaldKey(skaldId: string): string {
  return `s:${skaldId}`
}

/** the one statistics entry */
export const STATISTICS_KEY = 'summary'

/** list key of a query: `q:` + 128 bits of SHA-256 over its canonical form, base64url (22 characters). */
export function listKey(query: TaskListQuery | undefined): string {
  return `q:${createHash('sha256').update(canonicalQuery(query)).digest('base64url').slice(0, 22)}`
}

/**
 * The canonical text of a list query: what the store would run, and nothing of how it was written. Throws
 * TaskQueryError for a query the store would refuse. Sort keys keep their order (it is the sort's meaning); a
 * filter's "any of" arrays are sets.
 */
export function canonicalQuery(query: TaskListQuery | undefined): string {
  const normal: NormalQuery = normalizeQuery(query ?? {})
  const filter: Record<string, unknown> = { ...normal.filter }
  for (const field of ['lifecycleStatus', 'className', 'mode'] as const) {
    const values = normal.filter[field]
    if (values !== undefined) filter[field] = [...new Set<string>(values)].sort()
  }
  return stableJson({ filter, sort: normal.sort, offset: normal.offset, limit: normal.limit })
}

/** JSON with object keys sorted at every level (arrays keep their order). */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}
