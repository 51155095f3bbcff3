// Event Queue benchmark: events per second from publish to handled, and the latency of each event (publish call →
// handler entry), for the in-process bus, Redis Streams (REDIS_URL) and Kafka (KAFKA_BROKERS).
// `npm run bench -- bus`, or directly: `npx node bench/bus.ts` after `eval "$(bash scripts/services.sh env)"`.
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { RedisConnection } from '../src/redis/connection.ts'
import { silentLogger } from '../src/config/logger.ts'
import { KafkaBus } from '../src/bus/kafka.ts'
import { MemoryBus } from '../src/bus/memory.ts'
import { RedisStreamsBus } from '../src/bus/redis-streams.ts'
import type { EventBus } from '../src/bus/types.ts'
import { type BenchResult, report } from './lib.ts'

/** Throughput: 32 publishes in flight, so latency includes queueing behind the backlog. */
const SCENARIO = 'publish-to-handled'
/** Latency unloaded: one event at a time, the next published once the previous was handled. */
const ROUND_TRIP = 'publish-to-handled-one-at-a-time'

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run \`npm run bench -- bus\` or eval "$(bash scripts/services.sh env)" first`)
  return value
}

/** Publishes `events` events (16 keys, `concurrency` publishes in flight) to a fresh topic with one subscriber. */
async function publishToHandled(subject: string, bus: EventBus, events: number, concurrency: number): Promise<BenchResult> {
  const topic = `bench.bus.${randomUUID().slice(0, 8)}`
  const warmup = Math.min(500, Math.ceil(events / 10))
  const total = warmup + events
  const sentAt = new Float64Array(total)
  const latency = new Float64Array(total)
  let handled = 0
  let allHandled!: () => void
  const finished = new Promise<void>((resolve) => (allHandled = resolve))
  await bus.subscribe<number>(
    topic,
    'bench',
    (event) => {
      latency[event.payload] = performance.now() - sentAt[event.payload]!
      if (++handled === total) allHandled()
    },
    { startFrom: 'earliest' },
  )
  let next = 0
  const lane = async (until: number): Promise<void> => {
    while (next < until) {
      const i = next++
      sentAt[i] = performance.now()
      await bus.publish(topic, `key-${i % 16}`, i)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => lane(warmup)))
  while (handled < warmup) await new Promise((resolve) => setTimeout(resolve, 5))
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, () => lane(total)))
  await finished
  const elapsedMs = performance.now() - start
  const measured = latency.slice(warmup).sort()
  const at = (q: number): number => Math.round(measured[Math.min(measured.length - 1, Math.floor(q * measured.length))]! * 1000) / 1000
  return { scenario: SCENARIO, subject, opsPerSec: Math.round((events / elapsedMs) * 1000), p50Ms: at(0.5), p99Ms: at(0.99) }
}

/** One event in flight: publish, wait until handled, repeat. */
async function oneAtATime(subject: string, bus: EventBus, events: number): Promise<BenchResult> {
  const topic = `bench.bus.rt.${randomUUID().slice(0, 8)}`
  let waiter: (() => void) | undefined
  let expected = Number.NaN
  await bus.subscribe<number>(topic, 'bench', (event) => {
    if (event.payload === expected) waiter?.()
  }, { startFrom: 'earliest' })
  const warmup = 20
  const latency = new Float64Array(events)
  const start = performance.now()
  for (let i = -warmup; i < events; i++) {
    const handled = new Promise<void>((resolve) => (waiter = resolve))
    expected = i
    const t0 = performance.now()
    await bus.publish(topic, 'key', i)
    await handled
    if (i >= 0) latency[i] = performance.now() - t0
  }
  const elapsedMs = performance.now() - start
  latency.sort()
  const at = (q: number): number => Math.round(latency[Math.min(latency.length - 1, Math.floor(q * latency.length))]! * 1000) / 1000
  return { scenario: ROUND_TRIP, subject, opsPerSec: Math.round(((events + warmup) / elapsedMs) * 1000), p50Ms: at(0.5), p99Ms: at(0.99) }
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = []

  const memory = new MemoryBus({ logger: silentLogger })
  results.push(await publishToHandled('memory', memory, 50_000, 32))
  results.push(await oneAtATime('memory', memory, 5_000))
  await memory.close()

  const connection = await RedisConnection.connect({ url: required('REDIS_URL'), keyPrefix: `bench:${randomUUID().slice(0, 8)}:`, logger: silentLogger })
  const redis = new RedisStreamsBus({ connection, logger: silentLogger })
  try {
    results.push(await publishToHandled('redis-streams', redis, 10_000, 32))
    results.push(await oneAtATime('redis-streams', redis, 1_000))
  } finally {
    await redis.close()
    // The benchmark's streams: remove them from the shared server (by their own prefix only).
    for await (const keys of connection.scan(`${connection.keyPrefix}*`)) await connection.send(['DEL', ...keys], { key: keys[0] }).catch(() => {})
    await connection.close()
  }

  const kafka = new KafkaBus({ brokers: required('KAFKA_BROKERS'), maxWaitTimeMs: 50, logger: silentLogger })
  try {
    results.push(await publishToHandled('kafka', kafka, 5_000, 32))
    results.push(await oneAtATime('kafka', kafka, 300))
  } finally {
    await kafka.close()
  }
  return results
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report('bus', await run())
}
