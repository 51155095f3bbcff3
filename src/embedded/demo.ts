// runDemo(): `skalds demo` — the System Controller with its API, two node-mode Skalds and the example workers, in
// one process. On the embedded engines (in-process bus, Skald state and cache; SQLite under `dataDir`) when the
// configuration names no server; on the configured ones (Redis state, Redis Streams or Kafka, MongoDB) otherwise.
// It seeds the example tasks once, and stop() drains the nodes so the next run continues their tasks.
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig, type SkaldsConfig } from '../config/env.ts'
import { createLogger, type Logger } from '../config/logger.ts'
import { controllerOptionsFromConfig } from '../controller/run.ts'
import { SystemController } from '../controller/system-controller.ts'
import { Skald } from '../skald/skald.ts'
import { DEMO_NODE_IDS, DEMO_TASKS, DEMO_WORKERS } from './demo-catalog.ts'
import type { DemoInfo } from './demo-info.ts'
import { type DemoOptions, type ResolvedDemoOptions, resolveDemoOptions } from './demo-options.ts'
import { recoverOrphanedTasks } from './demo-recovery.ts'
import { seedDemoTasks } from './demo-seed.ts'
import { openEngines, type OpenedEngines } from './engines.ts'
import { DemoUnhealthyError } from './errors.ts'
import { apiHeaders } from './inject.ts'

export interface RunningDemo {
  /** what runs where; also given to `onReady` */
  info: DemoInfo
  controller: SystemController
  skalds: readonly Skald[]
  /** stops the controller, drains the nodes (their running tasks handed back), closes the engines; idempotent */
  stop(): Promise<void>
  /** resolves with the exit code (0) once stop() finished, whoever called it (a signal included) */
  readonly exited: Promise<number>
}

// The demo's timings where the configuration does not set them: nodes seen and tasks placed within a second, progress
// shown every second (the defaults, Python's, are 3-5 s).
const DEMO_NODE_MONITOR_MS = 1000
const DEMO_DISPATCH_SWEEP_MS = 1000
const DEMO_SYNC_PERIOD_MS = 1000
const HEALTH_DEADLINE_MS = 30_000

/**
 * Starts the demo. Whatever it opened is closed again when a step fails.
 * @throws DemoOptionsError (`E_DEMO_OPTIONS`) for a bad option; InvalidConfigError for a bad variable; ApiOptionsError;
 * the engines' connection errors; DemoSeedError when the API refuses an example task
 */
export async function runDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const started = performance.now()
  const o = resolveDemoOptions(options)
  const config = o.config ?? loadConfig()
  // Quiet unless asked (LOG_LEVEL): the demo's user reads the summary and the dashboard, not JSON lines.
  const level = config.sources.LOG_LEVEL ? config.log.level : 'warn'
  const log = o.logger ?? createLogger('skalds:demo', level)
  const distributed = config.redis !== undefined || config.kafka !== undefined || config.store.engine === 'mongodb'

  let sqlitePath: string | undefined
  if (config.store.engine === 'sqlite') {
    const dir = resolve(o.dataDir)
    mkdirSync(dir, { recursive: true })
    sqlitePath = join(dir, 'skalds.db')
  }
  const engines = await openEngines(config, { logger: log, ...(sqlitePath ? { sqlitePath } : {}) })
  let controller: SystemController | undefined
  const skalds: Skald[] = []
  const stopParts = async (): Promise<void> => {
    // The controller first, so nothing is dispatched to a node that is draining; then the nodes hand their tasks back.
    await controller?.stop().catch((error: unknown) => log.warn({ err: error }, 'controller stop failed'))
    await Promise.all(skalds.map((s) => s.stop(o.drainTimeoutMs).catch((error: unknown) => log.warn({ err: error, skaldId: s.id }, 'Skald stop failed'))))
    await engines.close()
  }
  let info: DemoInfo
  try {
    // Only this process runs tasks on in-process state: what the store shows running was cut short by a crash.
    if (engines.kinds.state === 'memory') await recoverOrphanedTasks(engines.store, DEMO_NODE_IDS, log)
    controller = await startController(config, engines, o, level, log)
    for (const skaldId of DEMO_NODE_IDS) skalds.push(await startNode(skaldId, config, engines, o.drainTimeoutMs, log))
    const healthyInMs = await waitHealthy(controller, started, config.controller.apiToken)
    const tasks = o.seed ? await seedDemoTasks(controller.app!, engines.store, DEMO_TASKS, config.controller.apiToken) : []
    info = {
      url: controller.url!,
      apiDocsUrl: `${controller.url!}/api/docs`,
      engines: { ...engines.kinds, distributed, storeLocation: engines.storeLocation },
      nodes: skalds.map((s) => s.id),
      classes: Object.keys(DEMO_WORKERS),
      tasks,
      healthyInMs,
    }
  } catch (error) {
    await stopParts()
    throw error
  }

  const exited = Promise.withResolvers<number>()
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      log.info('demo stopping')
      await stopParts()
    })()
    stopping.then(() => exited.resolve(0), exited.reject)
    return stopping
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    log.info({ signal }, 'signal: stopping the demo')
    void stop()
  }
  if (o.handleSignals) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }
  o.onReady?.(info)
  return { info, controller: controller, skalds, stop, exited: exited.promise }
}

/** The controller as runController would configure it, on the demo's engines, host and port. */
function startController(config: SkaldsConfig, engines: OpenedEngines, o: ResolvedDemoOptions, level: SkaldsConfig['log']['level'], log: Logger): Promise<SystemController> {
  const fromConfig = controllerOptionsFromConfig(config)
  const set = (variable: string): boolean => config.sources[variable] !== undefined
  return SystemController.start({
    ...fromConfig,
    plane: {
      ...fromConfig.plane,
      ...(set('MONITOR_SKALD_INTERVAL') ? {} : { nodeIntervalMs: DEMO_NODE_MONITOR_MS }),
      ...(set('DISPATCHER_INTERVAL') ? {} : { dispatchIntervalMs: DEMO_DISPATCH_SWEEP_MS }),
    },
    api: { ...(fromConfig.api || {}), host: o.host, port: o.port, logLevel: level },
    store: engines.store,
    bus: engines.bus,
    state: engines.state,
    ...(engines.redis ? { redis: engines.redis } : {}),
    ...(engines.cache ? { cache: engines.cache } : {}),
    logger: log,
  })
}

/** One node-mode Skald with the example workers, as runSkald would configure it, on the shared engines. */
function startNode(skaldId: string, config: SkaldsConfig, engines: OpenedEngines, drainTimeoutMs: number, log: Logger): Promise<Skald> {
  return Skald.start({
    skaldId,
    mode: 'node',
    workers: DEMO_WORKERS,
    store: engines.store,
    bus: engines.bus,
    state: engines.state,
    syncPeriodMs: config.sources.REDIS_SYNC_PERIOD ? config.skald.syncPeriodMs : DEMO_SYNC_PERIOD_MS,
    keyTtlMs: config.skald.keyTtlMs,
    drainTimeoutMs,
    // Quick local retries, so the failing example visibly recovers within seconds.
    retry: { initialMs: 500, factor: 2, maxMs: 5000 },
    logger: log,
  })
}

/** Asks the controller's own health route until it answers healthy; resolves with the ms since `started`. */
async function waitHealthy(controller: SystemController, started: number, token: string | undefined): Promise<number> {
  const deadline = Date.now() + HEALTH_DEADLINE_MS
  for (;;) {
    const response = await controller.app!.inject({ method: 'GET', url: '/api/system/health', headers: apiHeaders(token) })
    if (response.statusCode === 200 && (response.json<{ status: string }>()).status === 'healthy') return Math.round(performance.now() - started)
    if (Date.now() > deadline) throw new DemoUnhealthyError(`the demo's controller did not report healthy within ${HEALTH_DEADLINE_MS} ms: ${response.body}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
