// `npm run bench -- cache`: our CacheService against raw node-redis, Bentocache, cache-manager (+ @keyv/redis) and
// lru-cache, in one process, against one Redis (REDIS_URL). Every subject is measured with bench/lib.ts the same
// way; see docs/benchmarks.md for the scenarios, the settings and why they are fair.
//
// Noise control (the machine is shared): each (scenario, subject) is measured in BENCH_CACHE_ROUNDS rounds
// (default 8) of about BENCH_CACHE_SECONDS seconds (default 0.25), subjects in a rotated order each round, and the
// best round (highest ops/s, with its own p50/p99) is kept. Other processes only ever slow a round down.
import { performance } from 'node:perf_hooks'
import { LRUCache } from 'lru-cache'
import { type BenchResult, measure, measureSync, ratio } from './lib.ts'
import { stampede } from './fixtures/cache-stampede.ts'
import {
  deleteMatching,
  L1_MAX_ENTRIES,
  L1_TTL_MS,
  openBentocache,
  openCacheManager,
  openNodeRedis,
  openSkalds,
  PAYLOAD,
  redisUrl,
  TTL_MS,
  underPrefix,
} from './fixtures/cache-subjects.ts'

const ROUNDS = positiveNumber('BENCH_CACHE_ROUNDS', 8)
const ROUND_SECONDS = positiveNumber('BENCH_CACHE_SECONDS', 0.25)
/** operations in flight in the Redis scenarios */
const CONCURRENCY = 32
/** keys written before the hit scenarios, read round-robin */
const HIT_KEYS = 1000
/** in-process hits timed per batch (one timer read per batch, not per hit) */
const L1_BATCH = 1000
const json = JSON.stringify

/** One subject's operation in one scenario. */
interface Contender {
  subject: string
  op: (i: number) => unknown
  /** `async`: measure() with `concurrency` in flight; `batched`: awaited in batches of L1_BATCH; `sync`: measureSync */
  mode?: 'async' | 'batched' | 'sync'
  /** run after each timed round, outside the timing (e.g. deleting the keys a miss scenario wrote) */
  after?: () => Promise<unknown>
}

/** Rows printed after the table but kept out of the JSON (informative variants). */
const extraRows: BenchResult[] = []
/** Least CPU time (ns) this process spent per operation over the rounds, by `scenario|subject`. */
const cpuPerOp = new Map<string, number>()

export async function run(): Promise<BenchResult[]> {
  const url = redisUrl()
  const base = `bench:cache:${process.pid}-${Date.now().toString(36)}:`
  const prefix = {
    skalds: `${base}skalds:`,
    skaldsL1: `${base}skalds-l1:`,
    nodeRedis: `${base}node-redis:`,
    bentocache: `${base}bentocache:`,
    cacheManager: `${base}cache-manager`,
    cacheManagerL1: `${base}cache-manager-l1`,
  }
  const admin = await openNodeRedis(url)
  const raw = await openNodeRedis(url)
  const skalds = await openSkalds(url, prefix.skalds)
  const skaldsL1 = await openSkalds(url, prefix.skaldsL1, { l1: true })
  const bento = openBentocache(url, prefix.bentocache)
  const bentoL2 = bento.use('l2')
  const bentoTiered = bento.use('tiered')
  const cm = openCacheManager(url, prefix.cacheManager)
  const cmTiered = openCacheManager(url, prefix.cacheManagerL1, { memoryTier: true })
  const lru = new LRUCache<string, object>({ max: L1_MAX_ENTRIES, ttl: L1_TTL_MS })
  const results: BenchResult[] = []
  try {
    const hitKeys = Array.from({ length: HIT_KEYS }, (_, i) => `hit:${i}`)
    const rawKey = (key: string): string => `${prefix.nodeRedis}${key}`
    const rawHitKeys = hitKeys.map(rawKey)
    const text = json(PAYLOAD)
    const rawSet = (key: string): Promise<unknown> => raw.set(key, text, { expiration: { type: 'PX', value: TTL_MS } })
    const factory = (): typeof PAYLOAD => PAYLOAD

    // Fill the Redis subjects' hit keys through each one's own API (its own stored format); check a hit hits.
    for (const key of hitKeys) {
      await Promise.all([skalds.set(key, PAYLOAD), rawSet(rawKey(key)), bentoL2.set({ key, value: PAYLOAD, ttl: TTL_MS }), cm.set(key, PAYLOAD, TTL_MS)])
    }
    const probe = hitKeys[7]!
    await expectPayload('skalds', skalds.get(probe))
    await expectPayload('node-redis', raw.get(rawKey(probe)).then(parseReply))
    await expectPayload('bentocache', bentoL2.get({ key: probe }))
    await expectPayload('cache-manager', cm.get(probe))
    // The in-process tiers are filled just before their scenario (their entries live L1_TTL_MS), and checked after it.
    const cmMemory = cmTiered.stores[0]!
    const checkInProcessTiers = async (when: string): Promise<void> => {
      await expectPayload(`skalds L1 ${when}`, Promise.resolve(skaldsL1.getSync(probe)))
      await expectPayload(`cache-manager memory tier ${when}`, cmMemory.get(probe))
      await expectPayload(`lru-cache ${when}`, Promise.resolve(lru.get(probe)))
      await expectPayload(`bentocache tiered ${when}`, bentoTiered.get({ key: probe }))
    }

    await primeTimingLoops()
    const hit = (i: number): string => hitKeys[i % HIT_KEYS]!
    const rawHit = (i: number): string => rawHitKeys[i % HIT_KEYS]!
    const rawGet = async (key: string): Promise<unknown> => parseReply(await raw.get(key))

    results.push(
      ...(await compare('l2-hit-get', [
        { subject: 'skalds', op: (i) => skalds.get(hit(i)) },
        { subject: 'node-redis', op: (i) => rawGet(rawHit(i)) },
        { subject: 'bentocache', op: (i) => bentoL2.get({ key: hit(i) }) },
        { subject: 'cache-manager', op: (i) => cm.get(hit(i)) },
      ])),
    )
    // Informative: the same at concurrency 1 (latency-bound), printed after the table only.
    extraRows.push(
      ...(await compare('l2-hit-get-seq', [
        { subject: 'skalds', op: (i) => skalds.get(hit(i)) },
        { subject: 'node-redis', op: (i) => rawGet(rawHit(i)) },
        { subject: 'bentocache', op: (i) => bentoL2.get({ key: hit(i) }) },
        { subject: 'cache-manager', op: (i) => cm.get(hit(i)) },
      ], 1, Math.ceil(ROUNDS / 2))),
    )

    const setKey = (i: number): string => `set:${i % HIT_KEYS}`
    results.push(
      ...(await compare('set', [
        { subject: 'skalds', op: (i) => skalds.set(setKey(i), PAYLOAD) },
        { subject: 'node-redis', op: (i) => rawSet(rawKey(setKey(i))) },
        { subject: 'bentocache', op: (i) => bentoL2.set({ key: setKey(i), value: PAYLOAD, ttl: TTL_MS }) },
        { subject: 'cache-manager', op: (i) => cm.set(setKey(i), PAYLOAD, TTL_MS) },
      ])),
    )

    results.push(
      ...(await compare('getorset-hit', [
        { subject: 'skalds', op: (i) => skalds.getOrSet(hit(i), factory) },
        { subject: 'node-redis', op: (i) => rawGet(rawHit(i)) },
        { subject: 'bentocache', op: (i) => bentoL2.getOrSet({ key: hit(i), factory, ttl: TTL_MS }) },
        { subject: 'cache-manager', op: (i) => cm.wrap(hit(i), factory, TTL_MS) },
      ])),
    )

    // Misses: a fresh key per call (measure() reuses indexes between warm-up and timed run, so a counter names them);
    // the keys written are deleted after each round, outside the timing.
    let seq = 0
    const missKey = (): string => `miss-${seq++}`
    const dropMisses = (): Promise<number> => deleteMatching(admin, `${underPrefix(base)}miss-*`)
    results.push(
      ...(await compare('getorset-miss', [
        { subject: 'skalds', op: () => skalds.getOrSet(missKey(), factory), after: dropMisses },
        {
          subject: 'node-redis',
          op: async () => {
            const key = rawKey(missKey())
            if ((await rawGet(key)) === undefined) await raw.set(key, json(factory()), { expiration: { type: 'PX', value: TTL_MS } })
          },
          after: dropMisses,
        },
        { subject: 'bentocache', op: () => bentoL2.getOrSet({ key: missKey(), factory, ttl: TTL_MS }), after: dropMisses },
        { subject: 'cache-manager', op: () => cm.wrap(missKey(), factory, TTL_MS), after: dropMisses },
      ])),
    )

    // 100 keys per call; ten groups of the hit keys, round-robin. Bentocache has no many-key get: no row.
    const groups = Array.from({ length: HIT_KEYS / 100 }, (_, g) => hitKeys.slice(g * 100, g * 100 + 100))
    const rawGroups = groups.map((keys) => keys.map(rawKey))
    results.push(
      ...(await compare('mget-100', [
        { subject: 'skalds', op: (i) => skalds.getMany(groups[i % groups.length]!) },
        { subject: 'node-redis', op: async (i) => (await raw.mGet(rawGroups[i % rawGroups.length]!)).map(parseReply) },
        { subject: 'cache-manager', op: (i) => cm.mget(groups[i % groups.length]!) },
      ])),
    )

    // In-process hits. The async APIs are awaited one after another in batches (as measureSync batches lru-cache's
    // synchronous get), so a timer read per hit does not swamp a sub-microsecond operation.
    // `lru-cache-promise` (informative, not in the JSON) is lru-cache's get returned as a promise and awaited in the
    // same loop: the floor of any promise-returning get, separating the cost of the promise from the cache's own.
    for (const key of hitKeys) {
      await Promise.all([skaldsL1.set(key, PAYLOAD), bentoTiered.set({ key, value: PAYLOAD, ttl: TTL_MS }), cmTiered.set(key, PAYLOAD, TTL_MS)])
      lru.set(key, PAYLOAD)
    }
    await checkInProcessTiers('before the L1 scenarios')
    const l1Rows = await compare('l1-hit-get', [
      { subject: 'skalds', op: (i) => skaldsL1.get(hit(i)), mode: 'batched' },
      { subject: 'bentocache', op: (i) => bentoTiered.get({ key: hit(i) }), mode: 'batched' },
      { subject: 'cache-manager', op: (i) => cmTiered.get(hit(i)), mode: 'batched' },
      { subject: 'lru-cache', op: (i) => lru.get(hit(i)), mode: 'sync' },
      { subject: 'lru-cache-promise', op: (i) => Promise.resolve(lru.get(hit(i))), mode: 'batched' },
    ])
    results.push(...l1Rows.filter((r) => r.subject !== 'lru-cache-promise'))
    extraRows.push(...l1Rows.filter((r) => r.subject === 'lru-cache-promise'))
    results.push(...(await compare('l1-hit-get-sync', [{ subject: 'skalds', op: (i) => skaldsL1.getSync(hit(i)), mode: 'sync' }])))
    await checkInProcessTiers('after the L1 scenarios (entries must not expire while measured)')

    for (const subject of ['skalds', 'bentocache', 'cache-manager'] as const) {
      const subjectPrefix = subject === 'skalds' ? prefix.skalds : subject === 'bentocache' ? prefix.bentocache : prefix.cacheManager
      results.push(await stampede({ admin, url, subject, subjectPrefix, counterKey: `${base}stampede-calls:${subject}` }))
    }
  } finally {
    await Promise.allSettled([skalds.close(), skaldsL1.close(), raw.close(), bento.disconnectAll(), cm.disconnect(), cmTiered.disconnect()])
    const deleted = await deleteMatching(admin, underPrefix(base))
    console.error(`bench cache: deleted ${deleted} keys under ${base}`)
    await admin.close()
  }
  return results
}

/**
 * Called by bench/run.ts after the table: the informative rows, the client CPU cost per operation, then the ratios
 * of ours to each peer (targets marked), by throughput and by CPU per operation.
 */
export function summarize(results: BenchResult[]): void {
  if (extraRows.length > 0) {
    console.log('\ninformative (not in the JSON): l2-hit-get at concurrency 1; lru-cache get as a promise, awaited like the async APIs')
    console.table(extraRows.map((r) => ({ scenario: r.scenario, subject: r.subject, 'ops/s': r.opsPerSec, 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms })))
  }
  const subjects = ['skalds', 'node-redis', 'bentocache', 'cache-manager', 'lru-cache', 'lru-cache-promise']
  const scenarios = [...new Set([...cpuPerOp.keys()].map((k) => k.split('|')[0]!))]
  console.log('\nCPU time of this process per operation, ns (least over the rounds; hardly moved by other load on the machine)')
  console.table(
    scenarios.map((scenario) => {
      const row: Record<string, string | number> = { scenario }
      for (const subject of subjects) {
        const ns = cpuPerOp.get(`${scenario}|${subject}`)
        if (ns !== undefined) row[subject] = Math.round(ns)
      }
      return row
    }),
  )
  const byCpu = (scenario: string, ours: string, peer: string, peerScenario = scenario): string => {
    const a = cpuPerOp.get(`${scenario}|${ours}`)
    const b = cpuPerOp.get(`${peerScenario}|${peer}`)
    return a === undefined || b === undefined ? '?' : (b / a).toFixed(2)
  }
  const targets: Array<[string, string, number]> = [
    ['l2-hit-get', 'node-redis', 0.9],
    ['l2-hit-get', 'bentocache', 1.5],
    ['l2-hit-get', 'cache-manager', 1.5],
    ['l1-hit-get', 'lru-cache', 0.5],
  ]
  console.log('\ntargets (throughput ratio; the same ratio by CPU per operation in brackets)')
  for (const [scenario, peer, target] of targets) {
    const r = ratio(results, scenario, 'skalds', peer)
    const verdict = r === undefined ? 'not measured' : r >= target ? 'ok' : 'MISSED'
    console.log(`${scenario} skalds/${peer} = ${r?.toFixed(2) ?? '?'} (target >= ${target}) ${verdict} [cpu ${byCpu(scenario, 'skalds', peer)}]`)
  }
  const calls = results.find((r) => r.scenario === 'stampede-4proc' && r.subject === 'skalds')?.factoryCalls
  console.log(`stampede-4proc skalds factoryCalls = ${calls ?? '?'} (target = 1) ${calls === 1 ? 'ok' : 'MISSED'}`)
  const sync = results.find((r) => r.scenario === 'l1-hit-get-sync' && r.subject === 'skalds')
  const lruRow = results.find((r) => r.scenario === 'l1-hit-get' && r.subject === 'lru-cache')
  if (sync && lruRow) {
    console.log(`l1-hit-get-sync skalds getSync/lru-cache = ${(sync.opsPerSec / lruRow.opsPerSec).toFixed(2)} (informative) [cpu ${byCpu('l1-hit-get-sync', 'skalds', 'lru-cache', 'l1-hit-get')}]`)
  }
  const promiseRatio = ratio([...results, ...extraRows], 'l1-hit-get', 'skalds', 'lru-cache-promise')
  if (promiseRatio !== undefined) {
    console.log(`l1-hit-get skalds/lru-cache-promise = ${promiseRatio.toFixed(2)} (informative: both return a promise) [cpu ${byCpu('l1-hit-get', 'skalds', 'lru-cache-promise')}]`)
  }
  console.log('\nother ratios (informative)')
  for (const scenario of ['l2-hit-get-seq', 'set', 'getorset-hit', 'getorset-miss', 'mget-100', 'l1-hit-get', 'stampede-4proc']) {
    const rows = scenario === 'l2-hit-get-seq' ? extraRows : results
    for (const peer of ['node-redis', 'bentocache', 'cache-manager']) {
      const r = ratio(rows, scenario, 'skalds', peer)
      const cpu = scenario === 'stampede-4proc' ? '' : ` [cpu ${byCpu(scenario, 'skalds', peer)}]`
      if (r !== undefined) console.log(`${scenario} skalds/${peer} = ${r.toFixed(2)}${cpu}`)
    }
  }
}

/**
 * Measures each contender ROUNDS times (rotating the order each round) and keeps each one's best round. The number
 * of operations per round is sized from a short pilot run so that a round lasts about ROUND_SECONDS.
 */
async function compare(scenario: string, contenders: Contender[], concurrency = CONCURRENCY, rounds = ROUNDS): Promise<BenchResult[]> {
  const started = performance.now()
  const best = new Map<string, BenchResult>()
  const ops = new Map<string, number>()
  const minOps = (c: Contender): number => (c.mode === 'sync' || c.mode === 'batched' ? 10 * L1_BATCH : 200)
  for (const c of contenders) {
    const pilot = await once(scenario, c, c.mode === 'sync' || c.mode === 'batched' ? 20 * L1_BATCH : 200, concurrency)
    ops.set(c.subject, Math.max(minOps(c), Math.round(pilot.result.opsPerSec * ROUND_SECONDS)))
    await c.after?.()
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + round) % contenders.length]!
      const { result, cpuNsPerOp } = await once(scenario, c, ops.get(c.subject)!, concurrency)
      await c.after?.()
      // The next round is sized from this one: under a changing load a round keeps lasting about ROUND_SECONDS.
      ops.set(c.subject, Math.max(minOps(c), Math.round(result.opsPerSec * ROUND_SECONDS)))
      const previous = best.get(c.subject)
      if (previous === undefined || result.opsPerSec > previous.opsPerSec) best.set(c.subject, result)
      const cpuKey = `${scenario}|${c.subject}`
      cpuPerOp.set(cpuKey, Math.min(cpuPerOp.get(cpuKey) ?? Infinity, cpuNsPerOp))
    }
  }
  console.error(`bench cache: ${scenario} measured in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return contenders.map((c) => best.get(c.subject)!)
}

/**
 * Runs the shared timing loops (measureSync's and the batched one) over several throwaway operations first, so their
 * call of `op` is megamorphic for every subject. Otherwise the first subject measured gets that call inlined by the
 * JIT and the others do not, and for in-process hits of a few nanoseconds that order effect alone is worth 2-3×.
 */
async function primeTimingLoops(): Promise<void> {
  const sink: unknown[] = []
  const throwaway: Array<(i: number) => unknown> = [
    (i) => sink.push(i),
    (i) => i + 1,
    (i) => String(i),
    (i) => [i],
    (i) => ({ i }),
    (i) => i % 7 === 0,
  ]
  for (const op of throwaway) {
    measureSync('prime', 'prime', op, { ops: 20 * L1_BATCH, batch: L1_BATCH })
    await once('prime', { subject: 'prime', op, mode: 'batched' }, 20 * L1_BATCH, 1)
    await once('prime', { subject: 'prime', op }, 200, 1)
    sink.length = 0
  }
}

/**
 * One timed run, plus the CPU time this process spent per operation during it (warm-up included in both counts):
 * on a shared machine the wall-clock rate depends on what else runs, the CPU cost per operation much less.
 */
async function once(scenario: string, c: Contender, ops: number, concurrency: number): Promise<{ result: BenchResult; cpuNsPerOp: number }> {
  const cpu = process.cpuUsage()
  let result: BenchResult
  let executed: number
  if (c.mode === 'sync') {
    result = measureSync(scenario, c.subject, c.op, { ops, batch: L1_BATCH })
    executed = (Math.max(1, Math.floor(ops / L1_BATCH)) + 10) * L1_BATCH
  } else if (c.mode === 'batched') {
    const op = c.op
    const batch = async (b: number): Promise<void> => {
      const first = b * L1_BATCH
      for (let i = first; i < first + L1_BATCH; i++) await op(i)
    }
    const batches = Math.max(1, Math.round(ops / L1_BATCH))
    const r = await measure(scenario, c.subject, batch, { ops: batches, concurrency: 1, warmup: 10 })
    result = { ...r, opsPerSec: r.opsPerSec * L1_BATCH, p50Ms: round6(r.p50Ms / L1_BATCH), p99Ms: round6(r.p99Ms / L1_BATCH) }
    executed = (batches + 10) * L1_BATCH
  } else {
    result = await measure(scenario, c.subject, c.op, { ops, concurrency })
    executed = ops + Math.min(1000, Math.ceil(ops / 10))
  }
  const used = process.cpuUsage(cpu)
  return { result, cpuNsPerOp: ((used.user + used.system) * 1000) / executed }
}

/** The raw baseline's deserialization: what every cache does with a stored JSON string. */
function parseReply(text: string | null): unknown {
  return text === null ? undefined : (JSON.parse(text) as unknown)
}

async function expectPayload(subject: string, read: Promise<unknown>): Promise<void> {
  const value = await read
  if (json(value) !== json(PAYLOAD)) throw new Error(`bench cache: ${subject} did not read back the payload it stored (got ${json(value)})`)
}

function positiveNumber(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!(value > 0)) throw new Error(`${name}: must be a positive number, got ${json(text)}`)
  return value
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6
}
