// The System Controller as one object: the control plane (monitors, dispatcher) under a leadership lease, the task
// commands, the store's change feed, and the HTTP API, wired over the engines it is given. `runController` (run.ts)
// opens those engines from the configuration; tests and embedders call `SystemController.start` directly.
import type { FastifyInstance } from 'fastify'
import type { EventBus } from '../bus/types.ts'
import type { Duration } from '../config/duration.ts'
import type { ControllerMode, DispatchStrategy } from '../config/env.ts'
import { createLogger, type Logger } from '../config/logger.ts'
import { createRedisLockStore } from '../coordination/lock/redis-lock-store.ts'
import type { RedisConnection } from '../redis/connection.ts'
import type { SkaldStateBackend } from '../state/backend.ts'
import { createSkaldStateReader } from '../state/reader.ts'
import { createRedisSkaldStateBackend } from '../state/redis.ts'
import type { TaskStore } from '../store/task-store.ts'
import { createAlerts, type Alerts } from './alerts.ts'
import type { AlertsOptions } from './alerts-options.ts'
import type { ControlEvent } from './control-events.ts'
import { ControlPlane, type ControlPlaneOptions } from './control-plane.ts'
import { createHealthCheck } from './health.ts'
import { buildControllerApi, type ApiExtension, type ControllerApiOptions } from './http/app.ts'
import type { ControllerApiDeps, PublicConfig } from './http/deps.ts'
import { storeReads, type TaskChange, type TaskReads } from './task-reads.ts'
import { cacheRoutes } from './http/routes/cache.ts'
import { metricsRoutes } from './http/routes/metrics.ts'
import { eventsRoutes } from './http/routes/events.ts'
import type { TaskCaches } from './task-cache/api.ts'
import { createTaskCaches } from './task-cache/task-caches.ts'
import type { TaskCachesOptions } from './task-cache/options.ts'
import { cachedTaskReads, cleanupOperations } from './task-cache/reads.ts'
import { createCache } from '../cache/service/create-cache.ts'
import type { CacheService } from '../cache/service/cache-service.ts'
import { createLeadership, type Leadership } from './leadership.ts'
import { LiveHub, type LiveHubOptions } from './live/hub.ts'
import { createLiveSources, type LiveSources } from './live/sources.ts'
import { ControllerMetrics } from './metrics.ts'
import { TaskCommands } from './task-commands.ts'
import { TaskFeed, type TaskFeedChange } from './task-feed.ts'
import { recordTimeline } from './task-timeline.ts'

export const CONTROLLER_VERSION = '0.1.0'

const LIVE = new Set(['Assigning', 'Running'])

export interface SystemControllerOptions {
  store: TaskStore
  /** the Event Queue the commands and assignments go out on; none = nothing reaches the nodes */
  bus?: EventBus
  /** Redis: the Skalds' state, the leadership lease, the caches; none = no monitoring (a store-only API) */
  redis?: RedisConnection
  /** where the Skalds' state is; default the Redis state on `redis` */
  state?: SkaldStateBackend
  /** default `CONTROLLER` (monitors and dispatcher) */
  mode?: ControllerMode
  /** default `LEAST_TASKS` */
  strategy?: DispatchStrategy
  /** the control plane's timings and retry policy (ControlPlaneOptions, docs/control-plane.md) */
  plane?: Pick<ControlPlaneOptions, 'nodeIntervalMs' | 'taskIntervalMs' | 'dispatchIntervalMs' | 'stallAfterMs' | 'assignTimeoutMs' | 'offlineAfterMs' | 'keyTtlMs' | 'retry'>
  /**
   * one leader among several controllers on the same Redis: `{ candidateId?, lease? }` (docs/controller.md);
   * default on when `redis` is given; `false` = this controller always acts (the only one)
   */
  leadership?: false | { candidateId?: string; lease?: Duration }
  /** webhooks for task.failed, node.offline, task.failover; default none */
  alerts?: AlertsOptions
  /** the HTTP API: where it listens and its options; `false` = no HTTP server */
  api?: false | (ControllerApiOptions & { host?: string; port?: number })
  /**
   * the task caches (seed 001, docs/task-caches.md): their TTLs and timeouts; default on when `redis` or `cache` is
   * given; `false` = every read goes to the store
   */
  caches?: false | Omit<TaskCachesOptions, 'store' | 'cache' | 'state' | 'connection' | 'logger'>
  /** the cache the task caches live in; default a CacheService on `redis` (200 ms per call, no L1) */
  cache?: CacheService
  /** the reads the API serves; default the task caches (or the store without them) */
  reads?: TaskReads
  /** route groups added to the API (live events, cache administration, metrics) */
  extensions?: readonly ApiExtension[]
  /**
   * live events (SSE at /api/events): the hub's bounds (docs/live-events.md), the sources' read period `intervalMs`
   * (default 1000) and `maxTasks` watched (default 500), the streams' `keepAliveMs` (default 15000); `false` = none
   */
  live?: false | (LiveHubOptions & { intervalMs?: number; maxTasks?: number; keepAliveMs?: number })
  /** the store's change feed (invalidation, live status events): poll period, ms; default 500 */
  feedIntervalMs?: number
  /** shown by /api/system/config */
  publicConfig?: Partial<PublicConfig>
  /** told of every store change the feed sees (after the caches dropped it) */
  onTaskChanges?: (changes: TaskFeedChange[]) => void
  onEvent?: (event: ControlEvent) => void
  logger?: Logger
}

export class SystemController {
  readonly plane: ControlPlane
  readonly commands: TaskCommands
  readonly leadership: Leadership | undefined
  readonly alerts: Alerts | undefined
  readonly feed: TaskFeed
  readonly reads: TaskReads
  readonly metrics: ControllerMetrics
  /** the task caches; undefined when off */
  readonly caches: TaskCaches | undefined
  /** the live events' hub; undefined with `live: false` */
  readonly hub: LiveHub | undefined
  readonly app: FastifyInstance | undefined
  /** `http://host:port` once listening */
  readonly url: string | undefined
  readonly #stops: Array<() => Promise<void>>

  private constructor(parts: Omit<SystemController, 'stop' | 'isLeader'> & { stops: Array<() => Promise<void>> }) {
    this.plane = parts.plane
    this.commands = parts.commands
    this.leadership = parts.leadership
    this.alerts = parts.alerts
    this.feed = parts.feed
    this.reads = parts.reads
    this.metrics = parts.metrics
    this.caches = parts.caches
    this.hub = parts.hub
    this.app = parts.app
    this.url = parts.url
    this.#stops = parts.stops
  }

  get isLeader(): boolean {
    return this.leadership?.isLeader ?? true
  }

  static async start(options: SystemControllerOptions): Promise<SystemController> {
    const logger = options.logger ?? createLogger('skalds:controller')
    const stops: Array<() => Promise<void>> = []
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }, 'stop failed'))
    }
    try {
      const state = options.state ?? (options.redis ? createRedisSkaldStateBackend(options.redis) : undefined)
      // one reader of the Skalds' state for the caches, the live events and the API
      const reader = state ? createSkaldStateReader(state) : undefined
      const leadership =
        options.leadership !== false && options.redis
          ? createLeadership({
              store: createRedisLockStore(options.redis),
              ...(options.leadership?.candidateId ? { candidateId: options.leadership.candidateId } : {}),
              ...(options.leadership?.lease !== undefined ? { lease: options.leadership.lease } : {}),
              logger,
              onElected: () => plane.kick(),
            })
          : undefined
      const alerts = options.alerts ? createAlerts({ logger, ...options.alerts }) : undefined
      if (alerts) stops.push(async () => {
        await alerts.flush(5000)
        await alerts.close()
      })
      let cache = options.cache
      if (!cache && options.redis && options.caches !== false) {
        // Short per-call deadline: a read the cache cannot answer quickly goes to the store (and trips the breaker).
        const owned = await createCache({ redis: options.redis, timeout: 200, logger })
        stops.push(() => owned.close())
        cache = owned
      }
      const caches =
        options.caches === false || !cache ? undefined : createTaskCaches({ ...options.caches, store: options.store, cache, ...(reader ? { state: reader } : {}), ...(options.redis ? { connection: options.redis } : {}), logger })
      if (caches) stops.push(() => caches.stop())
      const cached = options.reads ?? (caches ? cachedTaskReads(caches) : storeReads(options.store))
      // This controller's own writes: dropped from the caches at once, and the feed looks right away, so their live
      // events go out in order (a node's writes are seen at the feed's next poll).
      const reads: TaskReads = {
        ...cached,
        changed: async (change) => {
          await cached.changed(change)
          feed.kick()
        },
      }
      const live = options.live === false ? undefined : (options.live ?? {})
      const hub = live ? new LiveHub({ logger, ...live }) : undefined
      const metrics: ControllerMetrics = new ControllerMetrics({
        reads,
        store: options.store,
        nodes: () => plane.nodes?.nodes.values() ?? [],
        isLeader: () => leadership?.isLeader ?? true,
        ...(hub ? { sseClients: () => hub.stats().clients } : {}),
        ...(cache ? { cacheHitRates: hitRates(cache) } : {}),
      })
      const plane: ControlPlane = new ControlPlane({
        store: options.store,
        bus: options.bus,
        state,
        ...(options.mode ? { mode: options.mode } : {}),
        ...(options.strategy ? { strategy: options.strategy } : {}),
        ...options.plane,
        ...(leadership ? { leadership } : {}),
        ...(alerts ? { alerts } : {}),
        logger,
        onEvent: (event) => {
          metrics.observe(event)
          const change = changeOf(event)
          if (change) void reads.changed(change)
          options.onEvent?.(event)
        },
      })
      const commands = new TaskCommands({ store: options.store, bus: options.bus, nodes: plane.nodes, kick: () => plane.kick(), logger })
      const feed: TaskFeed = new TaskFeed({
        store: options.store,
        ...(options.feedIntervalMs !== undefined ? { intervalMs: options.feedIntervalMs } : {}),
        logger,
        onChanges: async (changes) => {
          await cached.changedMany(changes.map(({ task, previous }) => ({ id: task.id, kind: previous && previous.lifecycleStatus === task.lifecycleStatus ? 'attachments' : 'status', executor: task.executor, ...(previous ? { previousExecutor: previous.executor } : {}) })))
          metrics.observeFeed(changes)
          // A run that left Assigning (running, ended, handed back) may have freed a slot or settled an assignment.
          plane.settled(changes.filter(({ task, previous }) => previous?.lifecycleStatus === 'Assigning' || (previous !== undefined && LIVE.has(previous.lifecycleStatus) && !LIVE.has(task.lifecycleStatus))).map(({ task }) => task.id))
          if (hub) publishStatusChanges(hub, changes)
          recordTimeline(options.store, changes, logger)
          options.onTaskChanges?.(changes)
        },
      })
      await plane.start()
      stops.push(() => plane.stop())
      if (leadership) {
        await leadership.start()
        stops.push(() => leadership.stop())
      }
      feed.start()
      stops.push(() => Promise.resolve(feed.stop()))
      if (caches) {
        caches.startCleanup()
        // Changes made while no controller ran were invalidated by nobody: start from empty caches, then warm up.
        void caches
          .invalidateAll()
          .then(() => caches.warmUp())
          .catch((error: unknown) => logger.warn({ err: error }, 'task caches warm-up failed; entries fill on first reads'))
      }
      let sources: LiveSources | undefined
      if (hub && live && reader) {
        const maxTasks = live.maxTasks ?? 500
        sources = createLiveSources({
          hub,
          reader,
          nodes: () => plane.nodes?.nodes.values() ?? [],
          activeTaskIds: async () => (await options.store.list({ lifecycleStatus: ['Assigning', 'Running', 'Paused'], sort: { field: 'updateDateTime', direction: 'desc' }, limit: maxTasks })).items,
          maxTasks,
          ...(live.intervalMs !== undefined ? { intervalMs: live.intervalMs } : {}),
          logger,
        })
        sources.start()
        const started = sources
        stops.push(() => started.stop())
      }

      let app: FastifyInstance | undefined
      let url: string | undefined
      if (options.api !== false) {
        const { host = '127.0.0.1', port = 8000, ...apiOptions } = options.api ?? {}
        const deps: ControllerApiDeps = {
          store: options.store,
          reads,
          commands,
          plane,
          state: reader,
          mode: plane.mode,
          health: createHealthCheck({ store: options.store, redis: options.redis, bus: options.bus }),
          config: {
            host,
            port,
            monitorSkaldIntervalMs: options.plane?.nodeIntervalMs ?? 5000,
            monitorTaskIntervalMs: options.plane?.taskIntervalMs ?? 3000,
            heartbeatTimeoutMs: 5000,
            dispatcherIntervalMs: options.plane?.dispatchIntervalMs ?? 5000,
            dispatcherStrategy: options.strategy ?? 'LEAST_TASKS',
            environment: process.env.SKALD_ENV ?? 'DEV',
            logLevel: apiOptions.logLevel ?? 'warn',
            engines: { store: options.store.kind, bus: options.bus?.kind ?? null, state: state?.kind ?? null, cache: caches ? (options.redis && !options.cache ? 'redis' : 'given') : null },
            ...options.publicConfig,
          },
          isLeader: () => leadership?.isLeader ?? true,
          version: CONTROLLER_VERSION,
          startedAt: Date.now(),
          cleanup: async () => (caches ? cleanupOperations(await caches.cleanup()) : ['nothing to clean: no task caches']),
        }
        const extensions: ApiExtension[] = [
          async (api) => {
            await api.register(metricsRoutes, { metrics })
          },
        ]
        if (caches) {
          extensions.push(async (api) => {
            await api.register(cacheRoutes, { prefix: '/api/cache', caches })
          })
        }
        if (hub) {
          extensions.push(async (api) => {
            await api.register(eventsRoutes, { prefix: '/api/events', hub, ...(live?.keepAliveMs !== undefined ? { keepAliveMs: live.keepAliveMs } : {}) })
          })
        }
        app = await buildControllerApi(deps, apiOptions, [...extensions, ...(options.extensions ?? [])])
        const listening = app
        stops.push(() => listening.close())
        const address = await app.listen({ host, port })
        url = address.startsWith('http') ? address : `http://${address}`
      }
      logger.info({ mode: plane.mode, url }, 'system controller started')
      return new SystemController({ plane, commands, leadership, alerts, feed, reads, metrics, caches, hub, app, url, stops })
    } catch (error) {
      await stopAll()
      throw error
    }
  }

  /** Stops the API, the feed, the control plane and the lease (handed over to another controller at once). */
  async stop(): Promise<void> {
    const stops = this.#stops.splice(0).reverse()
    for (const stop of stops) await stop()
  }
}

/** The control plane's decisions that change a stored task. */
function changeOf(event: ControlEvent): TaskChange | undefined {
  switch (event.type) {
    case 'task-dispatched':
      return { id: event.taskId, kind: 'status', executor: event.executor }
    case 'task-status':
    case 'task-retrying':
    case 'task-failed':
      return { id: event.taskId, kind: 'status' }
    case 'task-failover':
      return { id: event.taskId, kind: 'status', previousExecutor: event.from }
    default:
      return undefined
  }
}

/** A `task_status` live event for each change of status (or first sight) the store's feed reports. */
function publishStatusChanges(hub: LiveHub, changes: readonly TaskFeedChange[]): void {
  for (const { task, previous } of changes) {
    if (previous?.lifecycleStatus === task.lifecycleStatus && previous.executor === task.executor) continue
    hub.publish(
      'tasks',
      { type: 'task_status', taskId: task.id, data: { lifecycleStatus: task.lifecycleStatus, executor: task.executor, previousStatus: previous?.lifecycleStatus ?? null }, timestamp: task.updateDateTime },
      task.executor ?? previous?.executor ?? null,
    )
  }
}

/** Hit rate per cache namespace since start (0 before the first read). */
function hitRates(cache: CacheService): () => Record<string, number> {
  return () => Object.fromEntries(Object.entries(cache.stats()).map(([namespace, s]) => [namespace, s.hitRate]))
}
