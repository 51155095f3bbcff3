// `npm run bench -- coordination`: the distributed lock and the rate limiter against their peers, in one process,
// on one Redis (REDIS_URL), with one method for every subject:
//   - latency: p50/p99 of BENCH_SEQ_OPS (4000) operations run one at a time;
//   - throughput: opsPerSec of BENCH_CONC_OPS (30000) operations with 50 in flight.
// Subjects run interleaved, BENCH_ROUNDS (3) rounds, the order of a scenario's subjects rotating every round; a row
// carries the best throughput and the median p50/p99 over the rounds, so a burst of load from elsewhere on the
// machine does not decide a comparison. A round that fails is recorded in its row's `errors` (the row keeps the
// rounds that succeeded) instead of stopping the suite.
// Scenarios: lock-acquire-release (acquire + release of a free lock; keys cycle over 4096 names so 50 in-flight
// operations never contend; every lock with a 10 s TTL), rate-limit-check (one allowed check, keys cycle over 4096
// names). Every subject runs in its default configuration, as its README's quick start shows it: ours with the
// watchdog and a fencing token, redlock-universal's createLock (standard mode), redis-semaphore's Mutex; our
// limiter's default sliding window, rate-limiter-flexible's RateLimiterRedis (a fixed window). redlock-universal's
// stripped-down `performance: 'lean'` mode (a plain SET NX, no circuit breaker, no monitoring) is measured too and
// printed as an extra line, not written to the JSON, whose subjects are fixed.
// bloom-add / bloom-exists: our Bloom filter (src/coordination/bloom, `auto`: native BF.* where the server has RedisBloom,
// the Lua bit array otherwise) on 100k-capacity filter; no peer library. Where the server has RedisBloom a raw
// `BF.ADD` / `BF.EXISTS` baseline runs as subject `redis-bloom`.
import { createClient } from 'redis'
import { Redis } from 'ioredis'
import { createLock, NodeRedisAdapter } from 'redlock-universal'
import { Mutex } from 'redis-semaphore'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { silentLogger } from '../src/config/logger.ts'
import { RedisConnection } from '../src/redis/connection.ts'
import { LockManager } from '../src/coordination/lock/lock.ts'
import { createRedisLockStore } from '../src/coordination/lock/redis-lock-store.ts'
import { createRateLimiter } from '../src/coordination/rate-limit/limiter.ts'
import { createRedisRateLimitStore } from '../src/coordination/rate-limit/redis-rate-limit-store.ts'
import { RedisBloom } from '../src/coordination/bloom/redis.ts'
import { type BenchResult, describeError, measure, ratio, report } from './lib.ts'

const CONCURRENCY = 50
/** Measured and printed, not part of the JSON's fixed subjects. */
const LEAN = 'redlock-universal (lean mode)'
const KEYS = 4096

interface Subject {
  scenario: string
  subject: string
  op: (i: number) => Promise<unknown>
}

async function measureSubject(s: Subject, seqOps: number, concOps: number): Promise<BenchResult> {
  const latency = await measure(s.scenario, s.subject, s.op, { ops: seqOps, concurrency: 1, warmup: 500 })
  const throughput = await measure(s.scenario, s.subject, s.op, { ops: concOps, concurrency: CONCURRENCY, warmup: 500 })
  return { scenario: s.scenario, subject: s.subject, opsPerSec: throughput.opsPerSec, p50Ms: latency.p50Ms, p99Ms: latency.p99Ms }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** One row from a subject's rounds: the rounds that succeeded, and the errors of those that failed. */
function combine(s: Subject, rounds: Array<BenchResult | Error>): BenchResult {
  const ok = rounds.filter((r): r is BenchResult => !(r instanceof Error))
  const errors = rounds.flatMap((r, round) => (r instanceof Error ? [`round ${round + 1}: ${describeError(r)}`] : []))
  const figures =
    ok.length === 0
      ? { opsPerSec: 0, p50Ms: 0, p99Ms: 0 }
      : { opsPerSec: Math.max(...ok.map((r) => r.opsPerSec)), p50Ms: median(ok.map((r) => r.p50Ms)), p99Ms: median(ok.map((r) => r.p99Ms)) }
  return { scenario: s.scenario, subject: s.subject, ...figures, ...(errors.length > 0 ? { errors } : {}) }
}

/** All rows, the lean-mode extra included. */
export async function runAll(): Promise<BenchResult[]> {
  const url = process.env.REDIS_URL
  if (!url) throw new Error('REDIS_URL is not set: eval "$(bash scripts/services.sh env)" first, or run through `npm run bench`')
  const seqOps = Number(process.env.BENCH_SEQ_OPS ?? 4000)
  const concOps = Number(process.env.BENCH_CONC_OPS ?? 30000)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const prefix = `bench:coord:${process.pid}:${Date.now().toString(36)}:`

  const connection = await RedisConnection.connect({ url, logger: silentLogger })
  const nodeRedis = createClient({ url })
  await nodeRedis.connect()
  const ioredis = new Redis(url, { lazyConnect: true })
  await ioredis.connect()

  const locks = new LockManager({ store: createRedisLockStore(connection, { keyPrefix: `${prefix}skalds:` }), logger: silentLogger, ttl: '10s' })
  const redlockAdapter = new NodeRedisAdapter(nodeRedis)
  const limiter = createRateLimiter({
    store: createRedisRateLimitStore(connection),
    limit: 1_000_000_000,
    window: '1h',
    keyPrefix: `${prefix}rl:`,
    logger: silentLogger,
  })
  const flexible = new RateLimiterRedis({
    storeClient: nodeRedis,
    useRedisPackage: true,
    keyPrefix: `${prefix}rlf`,
    points: 1_000_000_000,
    duration: 3600,
  })

  const bloom = await new RedisBloom(connection, { keyPrefix: `${prefix}bloom:` }).create('bench', { capacity: 100_000, errorRate: 0.01 })
  const rawBloomKey = `${prefix}bf-raw`
  const nativeBloom = connection.features?.bloom === true

  const subjects: Subject[] = [
    {
      scenario: 'lock-acquire-release',
      subject: 'skalds',
      op: async (i) => {
        const lock = await locks.acquire(`k${i % KEYS}`)
        await lock.release()
      },
    },
    {
      scenario: 'lock-acquire-release',
      subject: 'redlock-universal',
      op: async (i) => {
        const lock = createLock({ adapter: redlockAdapter, key: `${prefix}rlu:k${i % KEYS}`, ttl: 10_000 })
        const handle = await lock.acquire()
        await lock.release(handle)
      },
    },
    {
      scenario: 'lock-acquire-release',
      subject: LEAN,
      op: async (i) => {
        const lock = createLock({ adapter: redlockAdapter, key: `${prefix}rlul:k${i % KEYS}`, ttl: 10_000, performance: 'lean' })
        const handle = await lock.acquire()
        await lock.release(handle)
      },
    },
    {
      scenario: 'lock-acquire-release',
      subject: 'redis-semaphore',
      op: async (i) => {
        const mutex = new Mutex(ioredis, `${prefix}rs:k${i % KEYS}`, { lockTimeout: 10_000 })
        await mutex.acquire()
        await mutex.release()
      },
    },
    { scenario: 'rate-limit-check', subject: 'skalds', op: (i) => limiter.check(`k${i % KEYS}`) },
    { scenario: 'rate-limit-check', subject: 'rate-limiter-flexible', op: (i) => flexible.consume(`k${i % KEYS}`) },
    { scenario: 'bloom-add', subject: 'skalds', op: (i) => bloom.add(`item${i}`) },
    { scenario: 'bloom-exists', subject: 'skalds', op: (i) => bloom.exists(`item${i % 50_000}`) },
  ]
  if (nativeBloom) {
    subjects.push(
      { scenario: 'bloom-add', subject: 'redis-bloom', op: (i) => nodeRedis.sendCommand(['BF.ADD', rawBloomKey, `item${i}`]) },
      { scenario: 'bloom-exists', subject: 'redis-bloom', op: (i) => nodeRedis.sendCommand(['BF.EXISTS', rawBloomKey, `item${i % 50_000}`]) },
    )
  }

  const results: BenchResult[] = []
  try {
    const byRound = new Map(subjects.map((s): [Subject, Array<BenchResult | Error>] => [s, []]))
    const scenarios = [...new Set(subjects.map((s) => s.scenario))]
    for (let round = 0; round < rounds; round++) {
      for (const scenario of scenarios) {
        // A scenario's subjects in a rotated order each round: none always runs first (cold) or last (after the others).
        const contenders = subjects.filter((s) => s.scenario === scenario)
        for (let k = 0; k < contenders.length; k++) {
          const subject = contenders[(k + round) % contenders.length]!
          byRound.get(subject)!.push(await measureSubject(subject, seqOps, concOps).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))
        }
      }
    }
    for (const [subject, r] of byRound) results.push(combine(subject, r))
  } finally {
    for await (const batch of connection.scan(`${prefix}*`)) await connection.send(['UNLINK', ...batch])
    await connection.close()
    await nodeRedis.close()
    ioredis.disconnect()
  }
  return results
}

/** The rows of bench/results/coordination.json. */
export async function run(): Promise<BenchResult[]> {
  const all = await runAll()
  const lean = all.find((r) => r.subject === LEAN)
  if (lean && lean.opsPerSec > 0) {
    const ours = all.find((r) => r.scenario === lean.scenario && r.subject === 'skalds')!
    console.log(
      `extra: ${LEAN}: ${lean.opsPerSec} ops/s, p50 ${lean.p50Ms} ms, p99 ${lean.p99Ms} ms; skalds/lean = ${Math.round((ours.opsPerSec / lean.opsPerSec) * 100) / 100}x`,
    )
  }
  return all.filter((r) => r.subject !== LEAN)
}

/** Ratios against the targets, printed after the table. */
export function summarize(results: BenchResult[]): void {
  const lockVsRedlock = ratio(results, 'lock-acquire-release', 'skalds', 'redlock-universal')
  const lockVsSemaphore = ratio(results, 'lock-acquire-release', 'skalds', 'redis-semaphore')
  const rlVsFlexible = ratio(results, 'rate-limit-check', 'skalds', 'rate-limiter-flexible')
  console.log(`lock: ${lockVsRedlock}x redlock-universal, ${lockVsSemaphore}x redis-semaphore (target >= 1.2x the faster)`)
  console.log(`rate-limit check: ${rlVsFlexible}x rate-limiter-flexible (target >= 1x)`)
  if (!results.some((r) => r.subject === 'redis-bloom')) console.log('bloom: the server has no RedisBloom module, so no raw BF.* baseline')
}

if (import.meta.main) {
  const results = await run()
  report('coordination', results)
  summarize(results)
}
