// Options of a Redis connection, their defaults, and how the configuration's Redis part maps onto them.
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { loadConfig, type LoadConfigOptions } from '../config/env.ts'
import type { Logger } from '../config/logger.ts'
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
  /** Per-command timeout in milliseconds; a command that takes longer fails with RedisTimeoutError. Default `1000`. */
  commandTimeoutMs?: number
  /** Timeout of one TCP + handshake attempt in milliseconds. Default `3000`. */
  connectTimeoutMs?: number
  /** Reconnect backoff: exponential from `minDelayMs`, capped at `maxDelayMs`, with ±20% jitter. Defaults 50 ms and 3000 ms. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
  /**
   * Whether `connect()` waits for the first successful connection (and throws a clear error if it cannot get one
   * within `connectTimeoutMs`), or returns at once and keeps connecting in the background. Default `true`.
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

export function parseAddress(value: string | RedisNodeAddress, field: string): RedisNodeAddress {
  if (typeof value !== 'string') return value
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError(`${field}: ${JSON.stringify(value)} is not host:port`)
  return { host: match[1]!, port: Number(match[2]) }
}

function positive(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${field}: must be a positive number, got ${value}`)
  return value
}

export function resolveConnectionOptions(options: RedisConnectionOptions): ResolvedConnectionOptions {
  let host = options.host ?? 'localhost'
  let port = options.port ?? 6379
  let username = options.username
  let password = options.password
  let db = options.db ?? 0
  let tls: boolean | TlsOptions = options.tls ?? false
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
  if (!Number.isInteger(db) || db < 0) throw new InvalidArgumentError(`db: must be a non-negative integer, got ${db}`)
  const common = {
    username,
    password,
    tls,
    keyPrefix: options.keyPrefix ?? '',
    commandTimeoutMs: positive(options.commandTimeoutMs, 1000, 'commandTimeoutMs'),
    connectTimeoutMs: positive(options.connectTimeoutMs, 3000, 'connectTimeoutMs'),
    minDelayMs: positive(options.reconnect?.minDelayMs, 50, 'reconnect.minDelayMs'),
    maxDelayMs: positive(options.reconnect?.maxDelayMs, 3000, 'reconnect.maxDelayMs'),
    waitForReady: options.waitForReady ?? true,
    offlineQueue: options.offlineQueue ?? false,
    maxQueueLength: positive(options.maxQueueLength, 10_000, 'maxQueueLength'),
    clientName: options.clientName ?? 'skalds',
  }
  if (options.cluster !== undefined) {
    if (options.cluster.nodes.length === 0) throw new InvalidArgumentError('cluster.nodes: give at least one host:port')
    const nodes = options.cluster.nodes.map((node, i) => parseAddress(node, `cluster.nodes[${i}]`))
    return { ...common, kind: 'cluster', clusterNodes: nodes, describe: `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}` }
  }
  if (options.sentinel !== undefined) {
    const sentinels = options.sentinel.sentinels.map((node, i) => parseAddress(node, `sentinel.sentinels[${i}]`))
    if (sentinels.length === 0) throw new InvalidArgumentError('sentinel.sentinels: give at least one host:port')
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
 * Connection options from the environment, as `loadConfig(options).redis` reads them (docs/configuration.md):
 * `REDIS_CLUSTER_NODES`, else `REDIS_URL`, else Skalds' `REDIS_HOST` / `REDIS_PORT`, with `REDIS_USERNAME`,
 * `REDIS_PASSWORD` and `REDIS_KEY_PREFIX`. Undefined when no Redis is configured (use the embedded backend).
 */
export function connectionOptionsFromEnv(options: LoadConfigOptions = {}): RedisConnectionOptions | undefined {
  // The config's Redis part is already in the shape of these options (and a fresh object on every call).
  return loadConfig(options).redis
}
