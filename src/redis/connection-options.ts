// Options of a Redis connection, their defaults, and how the configuration's Redis part maps onto them.
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { loadConfig, type LoadConfigOptions } from '../config/env.ts'
import { z } from 'zod'
import type { Duration } from '../config/duration.ts'
import type { Logger } from '../config/logger.ts'
import { boolean, duration, integer, nonEmptyString, opaque, optionsObject, parseOptions, renamed } from '../config/options.ts'
import { InvalidArgumentError } from './errors.ts'

export interface RedisNodeAddress {
  host: string
  port: number
}

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. Overrides host/port/username/password/db. */
  url?: string
  /** Host of a single server. Default `localhost`. */
  host?: string
  /** Port of a single server. Default `6379`. */
  port?: number
  /** ACL user name. Default none (the `default` user). */
  username?: string
  /** Password (of the ACL user, or `requirepass`). Default none. */
  password?: string
  /** Database index, single server only. Default `0`. */
  db?: number
  /** `true` for TLS with Node's defaults, or Node TLS options. Default off (on for `rediss://`). */
  tls?: boolean | TlsOptions
  /** Connect to a Redis Cluster through these seed nodes (`host:port` strings or addresses). */
  cluster?: { nodes: Array<string | RedisNodeAddress> }
  /** Connect through Sentinel to the master named `name`. */
  sentinel?: { name: string; sentinels: Array<string | RedisNodeAddress>; password?: string; username?: string }
  /** Prefix prepended to every key this library writes, e.g. `myapp:`. Default `''`. */
  keyPrefix?: string
  /** Per-command timeout; a command that takes longer fails with RedisTimeoutError. Default `'1s'`. */
  commandTimeout?: Duration
  /** @deprecated use `commandTimeout` (same value, in ms). */
  commandTimeoutMs?: number
  /** Timeout of one TCP + handshake attempt. Default `'3s'`. */
  connectTimeout?: Duration
  /** @deprecated use `connectTimeout` (same value, in ms). */
  connectTimeoutMs?: number
  /** Reconnect backoff: exponential from `minDelay`, capped at `maxDelay`, with ±20% jitter. Defaults `'50ms'` and `'3s'`. */
  reconnect?: {
    minDelay?: Duration
    maxDelay?: Duration
    /** @deprecated use `minDelay` (same value, in ms). */
    minDelayMs?: number
    /** @deprecated use `maxDelay` (same value, in ms). */
    maxDelayMs?: number
  }
  /**
   * Whether `connect()` waits for the first successful connection (and throws a clear error if it cannot get one
   * within `connectTimeout`), or returns at once and keeps connecting in the background. Default `true`.
   */
  waitForReady?: boolean
  /**
   * Commands issued while disconnected fail at once (default, `false`) instead of queueing without bound.
   * `true` queues them up to `maxQueueLength`.
   */
  offlineQueue?: boolean
  /** Bound on queued commands per socket. Default `10000`. */
  maxQueueLength?: number
  /** Name shown by CLIENT LIST. Default `skalds`. */
  clientName?: string
  /** Where connection events are logged. Default: the library logger. */
  logger?: Logger
}

export interface ResolvedConnectionOptions {
  kind: 'single' | 'cluster' | 'sentinel'
  single?: { host: string; port: number; db: number; tls: boolean | TlsOptions }
  clusterNodes?: RedisNodeAddress[]
  sentinel?: { name: string; sentinels: RedisNodeAddress[]; password?: string; username?: string }
  username?: string
  password?: string
  tls: boolean | TlsOptions
  keyPrefix: string
  commandTimeoutMs: number
  connectTimeoutMs: number
  minDelayMs: number
  maxDelayMs: number
  waitForReady: boolean
  offlineQueue: boolean
  maxQueueLength: number
  clientName: string
  /** host:port of what we connect to, for error messages */
  describe: string
}

const ADDRESS = /^\[?([^\]]+?)\]?:(\d+)$/

export function parseAddress(value: string | RedisNodeAddress, field: string): RedisNodeAddress {
  if (typeof value !== 'string') return value
  const match = ADDRESS.exec(value.trim())
  if (!match) throw new InvalidArgumentError(`${field}: ${JSON.stringify(value)} is not host:port`)
  return { host: match[1]!, port: Number(match[2]) }
}

const portNumber = integer(1, 65535)
const address = z.custom<string | RedisNodeAddress>(
  (v) =>
    typeof v === 'string'
      ? ADDRESS.test(v.trim())
      : typeof v === 'object' && v !== null && typeof (v as RedisNodeAddress).host === 'string' && portNumber.safeParse((v as RedisNodeAddress).port).success,
  { error: (issue) => `${JSON.stringify(issue.input)} is not host:port or { host, port }` },
)
const positive = duration({ positive: true })
const string = z.string()

/** The schema of RedisConnectionOptions (createCache checks its `redis` option with it). */
export const connectionOptionsSchema = optionsObject({
  url: string.optional(),
  host: string.optional(),
  port: portNumber.optional(),
  username: string.optional(),
  password: string.optional(),
  db: integer(0).optional(),
  tls: z.custom<boolean | TlsOptions>((v) => typeof v === 'boolean' || (typeof v === 'object' && v !== null), { error: 'must be true, false or Node TLS options' }).optional(),
  cluster: z.object({ nodes: z.array(address).min(1, 'give at least one host:port') }).optional(),
  sentinel: z
    .object({ name: nonEmptyString(), sentinels: z.array(address).min(1, 'give at least one host:port'), password: string.optional(), username: string.optional() })
    .optional(),
  keyPrefix: string.optional(),
  commandTimeout: positive.optional(),
  commandTimeoutMs: positive.optional(),
  connectTimeout: positive.optional(),
  connectTimeoutMs: positive.optional(),
  reconnect: z
    .object({ minDelay: positive.optional(), maxDelay: positive.optional(), minDelayMs: positive.optional(), maxDelayMs: positive.optional() })
    .superRefine((r, ctx) => {
      renamed(r, ctx, 'minDelay', 'minDelayMs')
      renamed(r, ctx, 'maxDelay', 'maxDelayMs')
    })
    .optional(),
  waitForReady: boolean().optional(),
  offlineQueue: boolean().optional(),
  maxQueueLength: integer(1).optional(),
  clientName: string.optional(),
  logger: opaque<Logger>().optional(),
}).superRefine((o, ctx) => {
  renamed(o, ctx, 'commandTimeout', 'commandTimeoutMs')
  renamed(o, ctx, 'connectTimeout', 'connectTimeoutMs')
})

/** Validates connection options and fills the defaults; bad input throws InvalidArgumentError naming the field. */
export function resolveConnectionOptions(input: RedisConnectionOptions | undefined): ResolvedConnectionOptions {
  const options = parseOptions(connectionOptionsSchema, input === undefined ? {} : input, (message) => new InvalidArgumentError(message))
  let host = options.host ?? 'localhost'
  let port = options.port ?? 6379
  let username = options.username
  let password = options.password
  let db = options.db ?? 0
  // The raw TLS options, not zod's copy of them (it keeps only plain own properties).
  let tls: boolean | TlsOptions = input?.tls ?? false
  if (options.url !== undefined) {
    let url: URL
    try {
      url = new URL(options.url)
    } catch {
      throw new InvalidArgumentError(`url: ${JSON.stringify(options.url)} is not a URL (expected redis://host:port)`)
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new InvalidArgumentError(`url: protocol must be redis: or rediss:, got ${url.protocol}`)
    }
    host = url.hostname.replace(/^\[|\]$/g, '') || 'localhost'
    port = url.port === '' ? 6379 : Number(url.port)
    if (url.username !== '') username = decodeURIComponent(url.username)
    if (url.password !== '') password = decodeURIComponent(url.password)
    const path = url.pathname.replace(/^\//, '')
    if (path !== '') {
      db = Number(path)
      if (!Number.isInteger(db) || db < 0) throw new InvalidArgumentError(`url: database index ${JSON.stringify(path)} is not a non-negative integer`)
    }
    if (url.protocol === 'rediss:' && tls === false) tls = true
  }
  const common = {
    username,
    password,
    tls,
    keyPrefix: options.keyPrefix ?? '',
    commandTimeoutMs: options.commandTimeout ?? options.commandTimeoutMs ?? 1000,
    connectTimeoutMs: options.connectTimeout ?? options.connectTimeoutMs ?? 3000,
    minDelayMs: options.reconnect?.minDelay ?? options.reconnect?.minDelayMs ?? 50,
    maxDelayMs: options.reconnect?.maxDelay ?? options.reconnect?.maxDelayMs ?? 3000,
    waitForReady: options.waitForReady ?? true,
    offlineQueue: options.offlineQueue ?? false,
    maxQueueLength: options.maxQueueLength ?? 10_000,
    clientName: options.clientName ?? 'skalds',
  }
  if (options.cluster !== undefined) {
    const nodes = options.cluster.nodes.map((node, i) => parseAddress(node, `cluster.nodes[${i}]`))
    return { ...common, kind: 'cluster', clusterNodes: nodes, describe: `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}` }
  }
  if (options.sentinel !== undefined) {
    const sentinels = options.sentinel.sentinels.map((node, i) => parseAddress(node, `sentinel.sentinels[${i}]`))
    return {
      ...common,
      kind: 'sentinel',
      sentinel: { name: options.sentinel.name, sentinels, password: options.sentinel.password, username: options.sentinel.username },
      describe: `sentinel master ${options.sentinel.name} via ${sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`,
    }
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidArgumentError(`port: must be 1..65535, got ${port}`)
  return { ...common, kind: 'single', single: { host, port, db, tls }, describe: `${host}:${port}` }
}

/**
 * Options of a duplicate: `overrides` on top of `base`. An override under either name of a renamed option
 * replaces both names in `base`, so `{ commandTimeoutMs }` overrides a base `commandTimeout` rather than clashing.
 */
export function overrideConnectionOptions(base: RedisConnectionOptions, overrides: Partial<RedisConnectionOptions>): RedisConnectionOptions {
  const merged: RedisConnectionOptions = { ...base, ...overrides }
  for (const [name, legacy] of [['commandTimeout', 'commandTimeoutMs'], ['connectTimeout', 'connectTimeoutMs']] as const) {
    if (overrides[name] !== undefined || overrides[legacy] !== undefined) {
      merged[name] = overrides[name]
      merged[legacy] = overrides[legacy]
    }
  }
  return merged
}

/**
 * Connection options from the environment, as `loadConfig(options).redis` reads them (docs/configuration.md):
 * `REDIS_CLUSTER_NODES`, else `REDIS_URL`, else Skalds' `REDIS_HOST` / `REDIS_PORT`, with `REDIS_USERNAME`,
 * `REDIS_PASSWORD` and `REDIS_KEY_PREFIX`. Undefined when no Redis is configured (use the embedded backend).
 */
export function connectionOptionsFromEnv(options: LoadConfigOptions = {}): RedisConnectionOptions | undefined {
  // The config's Redis part is already in the shape of these options (and a fresh object on every call).
  return loadConfig(options).redis
}
