// `skalds cache stats|clear`: the controller's task caches (docs/api.md, /api/cache).
import type { CliOptions } from './config.ts'
import { clientFrom } from './client.ts'
import { usageError } from './errors.ts'
import { keyValues, printJson, table } from './output.ts'

type Opts = CliOptions

interface Counters {
  hitRate: number
  hits: number
  misses: number
  keys?: number
  ttlMs?: number
}
interface CacheStats {
  enabled: boolean
  namespace?: string
  types: Record<string, Counters>
  overall: Counters
  memory: { usedBytes?: number }
  connection: { backend: string; status: string; latencyMs?: number; error?: string }
  bypassing: boolean
}

const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`

export async function cacheStats(opts: Opts): Promise<void> {
  const stats = await clientFrom(opts).request<CacheStats>('GET', '/api/cache/stats')
  if (opts.json) return printJson(stats)
  const c = stats.connection
  process.stdout.write(
    `${keyValues([
      ['enabled', stats.enabled ? 'yes' : 'no (the controller has no Redis: reads go to the store)'],
      ['namespace', stats.namespace],
      ['backend', `${c.backend}, ${c.status}${c.latencyMs === undefined ? '' : `, ${c.latencyMs} ms`}${c.error ? ` (${c.error})` : ''}`],
      ['memory', stats.memory.usedBytes === undefined ? undefined : `${(stats.memory.usedBytes / 1048576).toFixed(1)} MiB`],
      ['hit rate', `${percent(stats.overall.hitRate)} (${stats.overall.hits} hits, ${stats.overall.misses} misses)`],
      ['keys', stats.overall.keys],
      ['bypassing', stats.bypassing ? 'yes (an invalidation is not confirmed yet)' : 'no'],
    ])}\n\n`,
  )
  const rows = Object.entries(stats.types).map(([type, t]) => [type, t.keys, percent(t.hitRate), t.hits, t.misses, t.ttlMs === undefined ? undefined : `${t.ttlMs / 1000}s`])
  process.stdout.write(`${table(['TYPE', 'KEYS', 'HIT RATE', 'HITS', 'MISSES', 'TTL'], rows)}\n`)
}

export async function cacheClear(opts: Opts): Promise<void> {
  if (opts.task !== undefined && opts.skald !== undefined) throw usageError('give --task or --skald, not both')
  const path =
    opts.task !== undefined ? `/api/cache/tasks/${encodeURIComponent(String(opts.task))}` : opts.skald !== undefined ? `/api/cache/skalds/${encodeURIComponent(String(opts.skald))}` : '/api/cache/'
  const reply = await clientFrom(opts).request<{ message: string; data: { scope: string; confirmed: boolean } }>('DELETE', path)
  if (opts.json) return printJson(reply)
  process.stdout.write(`${reply.message}\n`)
  // not confirmed: Redis did not answer; the controller reads from the store until it does
  if (!reply.data.confirmed) process.exitCode = 1
}
