// One probe per kind of server `skalds doctor` checks: it connects, reads the version and the features Skalds uses,
// and says what to do when something is missing. A probe never throws: a failure is a `fail` check.
import { access, constants, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { KafkaEnvConfig, RedisEnvConfig, SkaldsConfig } from '../config/env.ts'
import { silentLogger } from '../config/logger.ts'
import { createClient } from './client.ts'
import { redact } from './output.ts'

export interface Check {
  /** `redis`, `bus`, `store`, `controller` */
  name: string
  /** what was checked, without secrets */
  target: string
  status: 'ok' | 'warn' | 'fail'
  /** false when the server did not answer */
  reachable: boolean
  version?: string
  features?: Record<string, boolean | string>
  message: string
  hint?: string
}

const failed = (name: string, target: string, error: unknown, hint: string): Check => ({
  name,
  target,
  status: 'fail',
  reachable: false,
  message: (error as Error)?.message?.split('\n')[0] ?? String(error),
  hint,
})

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

export function describeRedis(redis: RedisEnvConfig): string {
  return redis.cluster ? `cluster ${redis.cluster.nodes.join(',')}` : redis.url ? redact(redis.url) : `${redis.host}:${redis.port}`
}

export async function probeRedis(redis: RedisEnvConfig, timeoutMs: number): Promise<Check> {
  const target = describeRedis(redis)
  const { RedisConnection } = await import('../redis/connection.ts')
  let connection: Awaited<ReturnType<typeof RedisConnection.connect>> | undefined
  try {
    connection = await withTimeout(RedisConnection.connect({ ...redis, connectTimeout: timeoutMs, logger: silentLogger }), timeoutMs + 500, 'redis')
    const f = connection.features!
    const features = { hashFieldTtl: f.hashFieldTtl, redisBloom: f.bloom, cluster: f.clusterEnabled, shardedPubSub: f.shardedPubSub }
    const version = `${f.server === 'valkey' ? 'Valkey' : 'Redis'} ${f.version}`
    const tooOld = f.server === 'redis' && (f.major < 6 || (f.major === 6 && f.minor < 2))
    if (tooOld) return { name: 'redis', target, status: 'fail', reachable: true, version, features, message: `${version} is too old`, hint: 'Skalds needs Redis 6.2 or newer (7.4+ / 8 recommended)' }
    const notes: string[] = []
    let hint: string | undefined
    if (!f.hashFieldTtl) {
      notes.push('hash-field TTL emulated')
      hint = 'Redis 7.4+ (or 8) has native hash-field TTL (HEXPIRE): the emulation works but costs an index and a sweeper'
    } else notes.push('native hash-field TTL (HEXPIRE)')
    if (!f.bloom) {
      notes.push('no RedisBloom (Bloom filters run on Lua)')
      hint ??= 'optional: Redis 8 built with modules, or `--loadmodule redisbloom.so`, gives native BF.* Bloom filters'
    } else notes.push('RedisBloom')
    return { name: 'redis', target, status: f.hashFieldTtl ? 'ok' : 'warn', reachable: true, version, features, message: `${version}: ${notes.join(', ')}`, ...(hint ? { hint } : {}) }
  } catch (error) {
    return failed('redis', target, error, 'start Redis (e.g. `docker run -p 6379:6379 redis:8`), or fix REDIS_URL / REDIS_HOST / REDIS_PORT')
  } finally {
    await connection?.close().catch(() => {})
  }
}

/**
 * Kafka brokers do not report their version; it is estimated from the protocol versions the broker offers:
 * Kafka 4.0 dropped Fetch v0-v3 (KIP-896), Kafka 3.9 added AddRaftVoter (API key 80).
 */
export function estimateKafkaVersion(apis: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>): string {
  const fetch = apis.find((a) => a.apiKey === 1)
  if (fetch && fetch.minVersion >= 4) return '4.x'
  if (apis.some((a) => a.apiKey === 80)) return '3.9'
  return 'older than 3.9'
}

export async function probeKafka(kafka: KafkaEnvConfig, timeoutMs: number): Promise<Check> {
  const target = kafka.brokers.join(',')
  const k = await import('@platformatic/kafka')
  const errors: string[] = []
  for (const broker of kafka.brokers) {
    const colon = broker.lastIndexOf(':')
    const connection = new k.Connection('skalds-doctor', { connectTimeout: timeoutMs })
    try {
      await withTimeout(connection.connect(broker.slice(0, colon).replace(/^\[|\]$/g, ''), Number(broker.slice(colon + 1))) as Promise<void>, timeoutMs, `kafka ${broker}`)
      const reply = await withTimeout(k.apiVersionsV3.api.async(connection, 'skalds-doctor', '1'), timeoutMs, `kafka ${broker}`)
      const estimate = estimateKafkaVersion(reply.apiKeys)
      const version = `Kafka ${estimate} (estimated from its protocol versions)`
      const features = { apiKeys: String(reply.apiKeys.length), answeredBy: broker }
      if (estimate === 'older than 3.9') {
        return { name: 'bus', target, status: 'fail', reachable: true, version, features, message: `kafka: ${version}`, hint: 'Skalds needs Kafka 3.9+ or 4.x (KRaft); upgrade the brokers, or use SKALDS_BUS=redis-streams' }
      }
      return { name: 'bus', target, status: 'ok', reachable: true, version, features, message: `kafka: ${version}, answered by ${broker}` }
    } catch (error) {
      errors.push(`${broker}: ${(error as Error).message}`)
    } finally {
      await connection.close().catch(() => {})
    }
  }
  return failed('bus', target, new Error(`kafka: no broker answered (${errors.join('; ')})`), 'start Kafka, or fix KAFKA_BROKERS / KAFKA_HOST; without Kafka, SKALDS_BUS=redis-streams runs the bus on Redis')
}

export async function probeMongo(url: string, dbName: string, timeoutMs: number): Promise<Check> {
  const target = `${redact(url)} (db ${dbName})`
  const { MongoClient } = await import('mongodb')
  const client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, appName: 'skalds-doctor' })
  try {
    await client.connect()
    const info = await client.db('admin').command({ buildInfo: 1 })
    const ferret = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : undefined
    const version = ferret ? `FerretDB ${ferret} (MongoDB ${String(info.version)} wire)` : `MongoDB ${String(info.version)}`
    const features = { ferretdb: ferret !== undefined, writeLocks: ferret !== undefined }
    const note = ferret ? ': writes are serialised per task with lock documents (FerretDB has no multi-document transactions)' : ''
    return { name: 'store', target, status: 'ok', reachable: true, version, features, message: `${version}${note}` }
  } catch (error) {
    return failed('store', target, error, 'start MongoDB (or FerretDB), or fix MONGO_URL / MONGO_HOST; without MongoDB the store is a SQLite file (SKALDS_SQLITE_PATH)')
  } finally {
    await client.close().catch(() => {})
  }
}

export async function probeSqlite(path: string): Promise<Check> {
  const file = resolve(path)
  const { DatabaseSync } = await import('node:sqlite')
  const db = new DatabaseSync(':memory:')
  const version = `SQLite ${String((db.prepare('select sqlite_version() as v').get() as { v: string }).v)}`
  db.close()
  try {
    await access(dirname(file), constants.W_OK)
    return { name: 'store', target: file, status: 'ok', reachable: true, version, message: `${version} (node:sqlite), file ${file}: one machine only; MONGO_URL for a shared store` }
  } catch (error) {
    return { name: 'store', target: file, status: 'fail', reachable: true, version, message: `cannot write in ${dirname(file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, hint: 'set SKALDS_SQLITE_PATH to a file in a writable folder' }
  }
}

/**
 * LOG_PATH, when set: the directory (or, when it does not exist yet, the nearest folder above it, where it will be
 * created) must be a folder this user can write.
 */
export async function probeLogPath(path: string, log: SkaldsConfig['log']): Promise<Check> {
  const dir = resolve(path)
  const message = `log files ${join(dir, '<name>.<n>.log')}, rolled at ${log.rotationMb} MB, removed ${Math.round(log.retentionMs / 3_600_000)} h after their last line${log.splitWithWorkerId ? '; a file per task' : ''}`
  const hint = 'LOG_PATH must be a folder this user can write (it is created when missing), or unset for stdout only'
  let existing = dir
  try {
    for (;;) {
      // missing, or under a file (ENOTDIR): look one folder up, where it would be created
      const found = await stat(existing).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ENOTDIR' ? undefined : Promise.reject(error)))
      if (found) {
        if (!found.isDirectory()) throw Object.assign(new Error(`${existing} is not a folder`), { code: 'ENOTDIR' })
        break
      }
      const parent = dirname(existing)
      if (parent === existing) break
      existing = parent
    }
    await access(existing, constants.W_OK)
    return { name: 'logs', target: dir, status: 'ok', reachable: true, message }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? (error as Error).message : `cannot write in ${existing}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`
    return { name: 'logs', target: dir, status: 'fail', reachable: true, message: reason, hint }
  }
}

export async function probeController(url: string, token: string | undefined, timeoutMs: number): Promise<Check> {
  const client = createClient(url.replace(/\/+$/, ''), token, timeoutMs)
  try {
    const version = await client.request<{ version: string; nodeVersion: string }>('GET', '/api/system/version')
    const health = await client.request<{ status: string; services: Record<string, { status: string; error?: string }> }>('GET', '/api/system/health').catch((error: unknown) => {
      // unhealthy answers 503 with the same body
      const body = (error as { body?: unknown }).body as { status?: string; services?: Record<string, { status: string; error?: string }> } | undefined
      if (body?.status && body.services) return { status: body.status, services: body.services }
      throw error
    })
    const down = Object.entries(health.services).filter(([, s]) => s.status !== 'healthy')
    const features = Object.fromEntries(Object.entries(health.services).map(([name, s]) => [name, s.status]))
    const status = health.status === 'healthy' ? 'ok' : health.status === 'degraded' ? 'warn' : 'fail'
    const detail = down.length ? `; ${down.map(([n, s]) => `${n} ${s.status}${s.error ? ` (${s.error})` : ''}`).join(', ')}` : ''
    return {
      name: 'controller',
      target: url,
      status,
      reachable: true,
      version: `skalds ${version.version} on Node ${version.nodeVersion}`,
      features,
      message: `skalds ${version.version}, ${health.status}${detail}`,
      ...(status === 'ok' ? {} : { hint: 'the controller cannot reach a server it needs: run `skalds doctor` with its configuration' }),
    }
  } catch (error) {
    const status = (error as { status?: number }).status
    if (status === 401) return { name: 'controller', target: url, status: 'fail', reachable: true, message: (error as Error).message, hint: 'give the API token: --token or SKALDS_API_TOKEN' }
    return failed('controller', url, error, 'start it (`skalds controller`), or fix --url / SKALDS_CONTROLLER_URL')
  }
}
