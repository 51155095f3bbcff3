// One Redis connection (single server, Cluster or Sentinel) behind one small surface: send a command with a
// timeout, run a Lua script, scan every master, open a subscriber. Probes the server's features once.
import { EventEmitter } from 'node:events'
import type * as NodeRedis from 'redis'
import { createLogger, type Logger } from '../config/logger.ts'
import {
  type RedisConnectionOptions,
  type ResolvedConnectionOptions,
  overrideConnectionOptions,
  resolveConnectionOptions,
} from './connection-options.ts'
import { RedisAuthError, RedisTimeoutError, RedisTopologyError, RedisUnavailableError, toSkaldsError } from './errors.ts'
import { DeadlineWheel } from './deadline.ts'
import { probeFeatures, type RedisFeatures } from './features.ts'
import type { LuaScript } from './lua.ts'
import {
  closeClient,
  type ClusterClient,
  type NodeClient,
  type SentinelClient,
  sentinelAdapter,
  wrapSubscriber,
} from './node-redis-clients.ts'
import type { RedisArg, Reply, RedisSubscriber } from './types.ts'

export { escapeGlob } from './glob.ts'
export type { MessageListener, RedisArg, RedisSubscriber, Reply } from './types.ts'

type Driver = typeof NodeRedis
let driver: Promise<Driver> | undefined
/** node-redis, loaded on the first connection: importing the Redis layer (and every entry point above it) stays cheap. */
const loadDriver = (): Promise<Driver> => (driver ??= import('redis'))

export interface SendOptions {
  /** A key of the command: routes it on a cluster. */
  key?: string
  /** The command only reads (may go to a replica where allowed). */
  readonly?: boolean
  /** Overrides the connection's command timeout for this call (ms). */
  timeoutMs?: number
}

/** One master of the deployment, for commands that must run on every master (SCAN, INFO, DBSIZE). */
export interface RedisNodeHandle {
  address: string
  send(args: RedisArg[], timeoutMs?: number): Promise<Reply>
}

export type ConnectionEvent = 'ready' | 'down' | 'error'

/**
 * A Redis connection. Create with `RedisConnection.connect(options)`; every command has a timeout and, by default,
 * fails at once while disconnected instead of queueing without bound. Events: `ready` (features probed),
 * `down` (connection lost; reconnecting), `error` (a connection-level error, already logged once per outage).
 */
export class RedisConnection extends EventEmitter<{ ready: [RedisFeatures]; down: [Error]; error: [Error] }> {
  readonly options: ResolvedConnectionOptions
  readonly keyPrefix: string
  readonly isCluster: boolean
  readonly logger: Logger
  #single: NodeClient | undefined
  #cluster: ClusterClient | undefined
  #features: RedisFeatures | undefined
  #readyWaiters: Array<(features: RedisFeatures) => void> = []
  #lastError: Error | undefined
  #downLogged = false
  #closed = false
  #probing: Promise<void> | undefined
  #fatal: Error | undefined
  /** The options as given, so duplicate() can apply overrides on top of them (not on top of defaults). */
  #input: RedisConnectionOptions
  #clusterRetries = 0
  #clusterRetryTimer: NodeJS.Timeout | undefined

  private constructor(input: RedisConnectionOptions, options: ResolvedConnectionOptions, logger: Logger) {
    super()
    this.#input = input
    this.options = options
    this.keyPrefix = options.keyPrefix
    this.isCluster = options.kind === 'cluster'
    this.logger = logger
  }

  /** Opens a connection. With `waitForReady` (default) it resolves once connected and probed, or throws a clear error. */
  static async connect(options: RedisConnectionOptions): Promise<RedisConnection> {
    const resolved = resolveConnectionOptions(options)
    const redis = await loadDriver()
    const connection = new RedisConnection(options, resolved, options.logger ?? createLogger('skalds:redis'))
    connection.#open(redis)
    if (!resolved.waitForReady) return connection
    return connection.#readyOrClosed()
  }

  /** The probed features; undefined until the first successful connection. */
  get features(): RedisFeatures | undefined {
    return this.#features
  }

  get isReady(): boolean {
    // The cluster client has no isReady; it is open once its slots are discovered.
    const up = this.#cluster ? this.#cluster.isOpen : this.#single?.isReady === true
    return up && this.#features !== undefined
  }

  get closed(): boolean {
    return this.#closed
  }

  /** The global prefix applied to a key. */
  key(key: string): string {
    return this.keyPrefix + key
  }

  /** Resolves with the features once connected; rejects after `timeoutMs` with the last connection error. */
  whenReady(timeoutMs = this.options.connectTimeoutMs): Promise<RedisFeatures> {
    if (this.#fatal) return Promise.reject(this.#fatal)
    if (this.isReady) return Promise.resolve(this.#features!)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== waiter)
        reject(this.#fatal ?? this.#unreachableError(timeoutMs))
      }, timeoutMs)
      const waiter = (features: RedisFeatures): void => {
        clearTimeout(timer)
        if (this.#fatal) reject(this.#fatal)
        else resolve(features)
      }
      this.#readyWaiters.push(waiter)
    })
  }

  /** Sends one command. Errors come out as SkaldsError subclasses (timeout, unavailable, auth, crossslot, command). */
  send<T = Reply>(args: RedisArg[], options?: SendOptions): Promise<T> {
    const timeout = options?.timeoutMs ?? this.options.commandTimeoutMs
    let pending: Promise<unknown>
    try {
      // No node-redis `timeout` option here: it arms a timer per command (a large share of a GET's CPU) and does
      // not cover a stalled socket anyway; the deadline wheel bounds the whole call.
      if (this.#cluster) pending = this.#cluster.sendCommand(options?.key, options?.readonly, args)
      else if (this.#single) pending = this.#single.sendCommand(args)
      else return Promise.reject(new RedisUnavailableError(`redis ${this.options.describe}: connection is closed`))
    } catch (error) {
      return Promise.reject(toSkaldsError(error, `redis ${String(args[0])}`))
    }
    return withTimeout(pending, timeout, `redis ${String(args[0])}`) as Promise<T>
  }

  /**
   * Runs commands in one MULTI/EXEC on a connection of its own turn (node-redis never interleaves other callers'
   * commands into it). On a cluster every command must touch the slot of `options.key`, else the server answers
   * CROSSSLOT. EXEC does not roll back: a command that fails at run time (WRONGTYPE) leaves the others applied, and
   * the call rejects with that error. The timeout covers the whole transaction.
   */
  transaction(commands: RedisArg[][], options?: SendOptions): Promise<Reply[]> {
    const timeout = options?.timeoutMs ?? this.options.commandTimeoutMs
    let pending: Promise<unknown[]>
    if (this.#cluster) {
      const multi = this.#cluster.multi(options?.key)
      for (const command of commands) multi.addCommand(options?.key, false, command)
      pending = multi.exec()
    } else if (this.#single) {
      const multi = this.#single.multi()
      for (const command of commands) multi.addCommand(command)
      pending = multi.exec()
    } else {
      return Promise.reject(new RedisUnavailableError(`redis ${this.options.describe}: connection is closed`))
    }
    return withTimeout(pending, timeout, `redis MULTI (${commands.length} commands)`) as Promise<Reply[]>
  }

  /**
   * Runs a Lua script by SHA, loading it on NOSCRIPT. On a cluster every key must share a slot (use companion keys);
   * a script with no keys runs on the node that owns `routeKey`.
   */
  async evalScript<T = Reply>(script: LuaScript, keys: string[], args: Array<string | number>, options?: SendOptions): Promise<T> {
    if (keys.length !== script.numberOfKeys) {
      throw new TypeError(`lua ${script.name}: expects ${script.numberOfKeys} keys, got ${keys.length}`)
    }
    const argv = args.map(String)
    const sendOptions: SendOptions = { ...options, key: options?.key ?? keys[0] }
    try {
      return await this.send<T>(['EVALSHA', script.sha, String(keys.length), ...keys, ...argv], sendOptions)
    } catch (error) {
      if (!(error instanceof Error) || !/NOSCRIPT/.test(error.message)) throw error
      return this.send<T>(['EVAL', script.source, String(keys.length), ...keys, ...argv], sendOptions)
    }
  }

  /** Every master (one for a single server), for commands that must reach all of them. */
  async masters(): Promise<RedisNodeHandle[]> {
    if (this.#cluster) {
      const cluster = this.#cluster
      return Promise.all(
        cluster.masters.map(async (master) => {
          const client = await cluster.nodeClient(master)
          return {
            address: `${master.host}:${master.port}`,
            send: (args: RedisArg[], timeoutMs?: number) => {
              const timeout = timeoutMs ?? this.options.commandTimeoutMs
              return withTimeout(client.sendCommand(args), timeout, `redis ${String(args[0])} on ${master.host}:${master.port}`)
            },
          }
        }),
      )
    }
    return [{ address: this.options.describe, send: (args, timeoutMs) => this.send(args, { timeoutMs }) }]
  }

  /**
   * Iterates keys matching a glob pattern on every master with SCAN (never KEYS), in batches.
   * The pattern is used as given: escape user input with `escapeGlob` first.
   */
  async *scan(pattern: string, options?: { count?: number; type?: string }): AsyncGenerator<string[]> {
    const count = String(options?.count ?? 500)
    for (const master of await this.masters()) {
      let cursor = '0'
      do {
        const args = ['SCAN', cursor, 'MATCH', pattern, 'COUNT', count]
        if (options?.type) args.push('TYPE', options.type)
        const reply = (await master.send(args)) as [string, string[]]
        cursor = String(reply[0])
        if (reply[1].length > 0) yield reply[1].map(String)
      } while (cursor !== '0')
    }
  }

  /** Opens a dedicated pub/sub connection sharing this one's options. */
  async subscriber(): Promise<RedisSubscriber> {
    const sharded = this.#features?.shardedPubSub ?? false
    if (!this.#cluster && !this.#single) throw new RedisUnavailableError(`redis ${this.options.describe}: connection is closed`)
    const sub: NodeClient | ClusterClient = this.#cluster ? this.#cluster.duplicate() : this.#single!.duplicate()
    sub.on('error', (error) => this.#onError(error as Error))
    // A single client's connect() retries until the server is back; do not hang the caller meanwhile.
    try {
      await withTimeout(sub.connect(), this.options.connectTimeoutMs, `redis ${this.options.describe} subscriber connect`)
    } catch (error) {
      sub.destroy?.()
      throw error instanceof RedisTimeoutError
        ? new RedisUnavailableError(`redis ${this.options.describe}: subscriber not connected within ${this.options.connectTimeoutMs} ms`, { cause: error })
        : error
    }
    return wrapSubscriber(sub, this.#cluster ? sharded : false, () => closeClient(sub))
  }

  /** Opens an independent connection with the same options (for blocking commands such as XREADGROUP BLOCK). */
  async duplicate(overrides?: Partial<RedisConnectionOptions>): Promise<RedisConnection> {
    // Overrides apply on top of the options this connection was made with (resolving them alone would reset
    // everything else to defaults, e.g. a cluster connection duplicating into localhost:6379).
    const input = overrides ? overrideConnectionOptions(this.#input, overrides) : this.#input
    const resolved = overrides ? resolveConnectionOptions(input) : this.options
    const connection = new RedisConnection(input, resolved, overrides?.logger ?? this.logger)
    connection.#open(await loadDriver())
    return connection.#readyOrClosed()
  }

  /** Waits for the first connection; on failure closes this one (stopping its reconnect loop) and rethrows. */
  async #readyOrClosed(): Promise<RedisConnection> {
    try {
      await this.whenReady(this.options.connectTimeoutMs)
    } catch (error) {
      await this.close().catch(() => {})
      throw error
    }
    return this
  }

  /** Closes the connection; pending commands are rejected. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#clusterRetryTimer)
    const client = this.#cluster ?? this.#single
    this.#cluster = undefined
    this.#single = undefined
    if (client) await closeClient(client)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // ---- internals ----

  #reconnectStrategy = (retries: number, cause: Error): number | Error | false => {
    if (this.#closed) return false
    if (isAuthFailure(cause)) {
      this.#fatal = new RedisAuthError(
        `redis ${this.options.describe}: authentication failed for user ${this.options.username ?? 'default'} (${cause.message}); check the password / ACL user`,
        { cause },
      )
      this.#wakeWaiters()
      return this.#fatal
    }
    const { minDelayMs, maxDelayMs } = this.options
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(retries, 16))
    return Math.round(base * (0.8 + Math.random() * 0.4))
  }

  #open({ createClient, createCluster, createSentinel }: Driver): void {
    const o = this.options
    const socketBase = {
      connectTimeout: o.connectTimeoutMs,
      reconnectStrategy: this.#reconnectStrategy,
      ...(o.tls === false ? {} : o.tls === true ? { tls: true as const } : { tls: true as const, ...o.tls }),
    }
    const clientBase = {
      username: o.username,
      password: o.password,
      name: o.clientName,
      disableOfflineQueue: !o.offlineQueue,
      commandsQueueMaxLength: o.maxQueueLength,
      disableClientInfo: true,
    }
    let client: NodeClient | ClusterClient
    if (o.kind === 'cluster') {
      const nodes = o.clusterNodes!
      client = createCluster({
        rootNodes: nodes.map((n) => ({ socket: { host: n.host, port: n.port, ...socketBase } })),
        defaults: { ...clientBase, socket: socketBase },
        useReplicas: false,
      }) as unknown as ClusterClient
      this.#cluster = client
    } else if (o.kind === 'sentinel') {
      const s = o.sentinel!
      const make = (): SentinelClient =>
        createSentinel({
          name: s.name,
          sentinelRootNodes: s.sentinels,
          nodeClientOptions: { ...clientBase, socket: socketBase },
          sentinelClientOptions: { username: s.username, password: s.password, socket: socketBase },
        }) as unknown as SentinelClient
      client = sentinelAdapter(make(), make)
      this.#single = client
    } else {
      const single = o.single!
      client = createClient({
        ...clientBase,
        database: single.db,
        socket: { host: single.host, port: single.port, ...socketBase },
      })
      this.#single = client
    }
    client.on('error', (error) => this.#onError(error as Error))
    if (o.kind === 'sentinel') {
      // The sentinel client emits no ready event: probe once connected, and again when the master changes.
      client.on('topology-change', () => {
        if (this.#features) this.#onReady()
      })
    } else if (o.kind === 'cluster') {
      // The cluster client emits per-node events only; the first probe runs once slots are discovered.
      client.on('node-error', (error) => this.#onError(error as Error))
      client.on('node-reconnecting', () => this.#onDown(this.#lastError ?? new RedisUnavailableError(`redis ${o.describe}: a node is reconnecting`)))
      client.on('node-ready', () => {
        if (this.#features) this.#onReady()
      })
    } else {
      client.on('ready', () => this.#onReady())
      client.on('end', () => this.#onDown(new RedisUnavailableError(`redis ${o.describe}: connection ended`)))
      client.on('reconnecting', () => this.#onDown(this.#lastError ?? new RedisUnavailableError(`redis ${o.describe}: reconnecting`)))
    }
    this.#connect(client)
  }

  /**
   * A single client's connect() keeps retrying through the reconnect strategy and rejects only on a fatal error.
   * The cluster client's connect() gives up when no seed node answers (RootNodesUnavailableError): retry it here
   * with the same backoff, or a connection opened with `waitForReady: false` would never come up.
   */
  #connect(client: NodeClient | ClusterClient): void {
    const o = this.options
    client.connect().then(
      () => {
        this.#clusterRetries = 0
        if (o.kind !== 'single') this.#onReady()
      },
      (error: unknown) => {
        const err = error instanceof Error ? error : new Error(String(error))
        if (isAuthFailure(err) && !this.#fatal) this.#fatal = new RedisAuthError(`redis ${o.describe}: authentication failed (${err.message})`, { cause: err })
        this.#lastError = err
        this.#wakeWaiters()
        if (o.kind !== 'cluster' || this.#fatal || this.#closed || client !== this.#cluster) return
        this.#onError(err)
        const delay = this.#reconnectStrategy(this.#clusterRetries++, err)
        if (typeof delay !== 'number') return
        this.#clusterRetryTimer = setTimeout(() => {
          if (!this.#closed && client === this.#cluster) this.#connect(client)
        }, delay)
        this.#clusterRetryTimer.unref()
      },
    )
  }

  #onReady(): void {
    if (this.#probing || this.#closed) return
    this.#probing = this.#probe().finally(() => {
      this.#probing = undefined
    })
  }

  async #probe(): Promise<void> {
    try {
      // Bounded like every command: a probe hanging on a stalled server would block every later re-probe.
      const timeout = this.options.connectTimeoutMs
      const send = (args: string[]): Promise<unknown> =>
        withTimeout(
          this.#cluster
            ? this.#cluster.sendCommand(undefined, true, args, { timeout })
            : this.#single!.sendCommand(args, { timeout }),
          timeout,
          `redis ${this.options.describe} ${args[0]} (feature probe)`,
        )
      const features = await probeFeatures(send)
      if (features.clusterEnabled && !this.isCluster) {
        this.#fatal = new RedisTopologyError(
          `redis ${this.options.describe}: this server is a Redis Cluster node (cluster_enabled:1); connect with { cluster: { nodes: ['${this.options.describe}', ...] } } or REDIS_CLUSTER_NODES`,
        )
        this.logger.error({ err: this.#fatal }, this.#fatal.message)
        this.#wakeWaiters()
        return
      }
      const first = this.#features === undefined
      this.#features = features
      if (first) {
        this.logger.info(
          { server: features.server, version: features.version, hashFieldTtl: features.hashFieldTtl, bloom: features.bloom, cluster: this.isCluster },
          `redis ${this.options.describe}: connected to ${features.server} ${features.version}` +
            ` (hash-field TTL ${features.hashFieldTtl ? 'native' : 'emulated'}, bloom ${features.bloom ? 'native' : 'lua'})`,
        )
      } else if (this.#downLogged) {
        this.logger.info(`redis ${this.options.describe}: connection restored`)
      }
      this.#downLogged = false
      this.emit('ready', features)
      this.#wakeWaiters()
    } catch (error) {
      this.#lastError = error instanceof Error ? error : new Error(String(error))
      this.logger.warn({ err: this.#lastError }, `redis ${this.options.describe}: feature probe failed; retrying`)
      // The socket may stay up (a stalled server that resumes): no new 'ready' event would come, so retry here.
      const retry = setTimeout(() => {
        const up = this.#cluster ? this.#cluster.isOpen : this.#single?.isReady === true
        if (up && !this.#closed) this.#onReady()
      }, this.options.maxDelayMs)
      retry.unref()
    }
  }

  #wakeWaiters(): void {
    if (!this.#fatal && !this.isReady) return
    const waiters = this.#readyWaiters
    this.#readyWaiters = []
    for (const waiter of waiters) waiter(this.#features!)
  }

  #onError(error: Error): void {
    this.#lastError = error
    if (!this.#downLogged && !this.#closed) {
      this.#downLogged = true
      this.logger.warn({ err: error }, `redis ${this.options.describe}: ${error.message}; reconnecting with backoff`)
    }
    if (this.listenerCount('error') > 0) this.emit('error', toSkaldsError(error, `redis ${this.options.describe}`))
  }

  #onDown(error: Error): void {
    if (this.#closed) return
    this.emit('down', error)
  }

  #unreachableError(timeoutMs: number): Error {
    const cause = this.#lastError
    const reason = cause ? `: ${cause.message}` : ''
    if (cause && isAuthFailure(cause)) return new RedisAuthError(`redis ${this.options.describe}: authentication failed${reason}`, { cause })
    return new RedisUnavailableError(`redis ${this.options.describe}: not reachable within ${timeoutMs} ms${reason}`, { cause })
  }
}

/**
 * node-redis' own `timeout` only covers the wait in its write queue: once a command is on the socket it waits
 * forever for a stalled (e.g. SIGSTOPped) server. This timer bounds the whole call. A late reply is dropped by
 * node-redis as usual (the command stays matched to its reply slot), so the socket stays in sync.
 */
const commandDeadlines = new DeadlineWheel(
  (context, timeoutMs) => new RedisTimeoutError(`${context}: no reply within ${timeoutMs} ms (command timeout)`),
  toSkaldsError,
)

/**
 * node-redis' own `timeout` only covers the wait in its write queue: once a command is on the socket it waits
 * forever for a stalled (e.g. SIGSTOPped) server. This bounds the whole call. A late reply is dropped by
 * node-redis as usual (the command stays matched to its reply slot), so the socket stays in sync.
 */
function withTimeout(pending: Promise<unknown>, timeoutMs: number, context: string): Promise<unknown> {
  return commandDeadlines.race(pending, timeoutMs, context)
}

function isAuthFailure(error: Error): boolean {
  return /WRONGPASS|NOAUTH|invalid username-password|NOPERM/i.test(error.message)
}
