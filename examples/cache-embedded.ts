// The cache on the embedded memory backend (no server): set/get, getOrSet coalescing 10 concurrent callers onto one
// slow factory call, counters, tags, namespaces, and the monitoring outputs. Run: npm run example:cache
import { setTimeout as sleep } from 'node:timers/promises'
import { cached, createCache } from '../src/cache/index.ts'

const cache = await createCache({ namespace: 'demo', ttl: '10m', jitter: 10 })

await cache.set('greeting', { text: 'hello from the cache' })
console.log('get greeting        →', await cache.get('greeting'))
console.log('get missing         →', await cache.get('missing'))

// 10 callers miss at once; the slow "database" runs once and every caller gets its value.
let dbCalls = 0
const loadReport = async (): Promise<{ total: number }> => {
  dbCalls++
  await sleep(200)
  return { total: 1234 }
}
const started = Date.now()
const reports = await Promise.all(Array.from({ length: 10 }, () => cache.getOrSet('report:2026', loadReport, { ttl: '1m' })))
console.log(`getOrSet ×10        → ${JSON.stringify(reports[0])}, factory called ${dbCalls} time(s) in ${Date.now() - started} ms`)
await cache.getOrSet('report:2026', loadReport)
console.log(`getOrSet again      → served from cache, factory still called ${dbCalls} time(s)`)

// Counters get their TTL when created.
await cache.increment('visits', 1, { ttl: '1d' })
await cache.increment('visits', 4)
console.log('counter visits      →', await cache.get('visits'), `(ttl ${Math.round(((await cache.ttl('visits')) ?? 0) / 1000)} s)`)

// Tags: invalidate everything about one project at once.
const projects = cache.namespace('projects')
await projects.set('42:info', { title: 'Check-in challenge' }, { tags: ['project:42'] })
await projects.set('42:stats', { members: 150 }, { tags: ['project:42'] })
await projects.set('7:info', { title: 'Reading club' }, { tags: ['project:7'] })
console.log('invalidateTags      → deleted', await projects.invalidateTags(['project:42']), 'keys; 7:info still', await projects.get('7:info'))

// A cached function with its own key.
const getUser = cached((id: string) => Promise.resolve({ id, name: `user ${id}` }), { cache: cache.namespace('users'), key: (id) => `user:${id}`, ttl: '5m' })
await getUser('1')
console.log('cached() getUser(1) →', await getUser('1'))

console.log('stats               →', cache.stats())
console.log('statistics          →', JSON.stringify(await cache.statistics()))
console.log('health              →', await cache.health())
await cache.close()
