// runController(): a System Controller process from the configuration (Skalds' env vars, `.env`): opens the store,
// Redis and the bus the config names, starts the SystemController with its API, and stops it all on SIGTERM /
// SIGINT. What the CLI's `controller` command and a user's own launcher call.
import { hostname } from 'node:os'
import type { EventBus } from '../bus/types.ts'
import { loadConfig, type SkaldsConfig } from '../config/env.ts'
import { openConfiguredLog } from '../config/log-files.ts'
import type { Logger } from '../config/logger.ts'
import type { RedisConnection } from '../redis/connection.ts'
import type { TaskStore } from '../store/task-store.ts'
import { parseAlertWebhooksEnv } from './alerts-options.ts'
import { SystemController, type SystemControllerOptions } from './system-controller.ts'

export interface RunControllerOptions extends Partial<Omit<SystemControllerOptions, 'store' | 'bus' | 'redis'>> {
  /** default `loadConfig()` (process.env and `.env`) */
  config?: SkaldsConfig
  /** stop on the first SIGTERM / SIGINT (a second one exits at once with code 1); default true */
  handleSignals?: boolean
}

export interface RunningController {
  controller: SystemController
  /** stops the controller (hands the lead over), closes what runController opened */
  stop(): Promise<void>
}

/** The SystemController options the configuration gives (env names in docs/configuration.md). */
export function controllerOptionsFromConfig(config: SkaldsConfig): Omit<SystemControllerOptions, 'store' | 'bus' | 'redis' | 'logger'> {
  const c = config.controller
  const webhooks = parseAlertWebhooksEnv(c.alertWebhooks ?? '', 'SKALDS_ALERT_WEBHOOKS', config.sources.SKALDS_ALERT_WEBHOOKS ?? 'environment')
  return {
    mode: c.mode,
    strategy: c.dispatcherStrategy,
    plane: { nodeIntervalMs: c.monitorSkaldIntervalMs, taskIntervalMs: c.monitorTaskIntervalMs, dispatchIntervalMs: c.dispatcherIntervalMs, keyTtlMs: config.skald.keyTtlMs },
    leadership: { candidateId: c.instanceId ?? `${hostname()}-${process.pid}` },
    ...(webhooks.length > 0 ? { alerts: { webhooks } } : {}),
    api: {
      host: c.host,
      port: c.port,
      ...(c.apiToken ? { token: c.apiToken, strict: c.apiStrict } : {}),
      ...(c.apiCorsOrigins ? { cors: { origins: c.apiCorsOrigins, credentials: c.apiCorsCredentials } } : {}),
      rateLimit: c.apiRateLimit === false ? false : { global: { limit: c.apiRateLimit.limit, window: c.apiRateLimit.windowMs }, keyBy: 'ip' },
      bodyLimitBytes: c.apiBodyLimitBytes,
      logLevel: config.log.level,
    },
    publicConfig: { environment: config.env, logLevel: config.log.level, heartbeatTimeoutMs: c.heartbeatTimeoutMs },
  }
}

/**
 * Starts a System Controller as the configuration says. Without Redis it monitors nothing (a warning says so);
 * with the in-process memory bus its commands reach no node outside this process (a warning says so).
 * @throws InvalidConfigError, ApiOptionsError; whatever it opened is closed again first
 */
export async function runController(options: RunControllerOptions = {}): Promise<RunningController> {
  const config = options.config ?? loadConfig()
  // LOG_PATH: the lines go to <LOG_PATH>/SystemController_<id>.<n>.log too (Python's name, with this controller's id
  // so that several on one host never share a file); closed last.
  const fileName = `SystemController_${config.controller.instanceId ?? `${hostname()}-${process.pid}`}`
  const processLog = await openConfiguredLog('skalds:controller', fileName, config, !options.logger)
  const log = options.logger ?? processLog.logger
  const opened: Array<{ close(): Promise<void> }> = [processLog]
  const closeAll = async (): Promise<void> => {
    for (const resource of opened.reverse()) await resource.close().catch((error: unknown) => log.warn({ err: error }, 'close failed'))
  }
  let controller: SystemController
  try {
    const fromConfig = controllerOptionsFromConfig(config)
    const { store, bus, redis } = await openEngines(config, log, opened)
    const { config: _config, handleSignals: _signals, ...given } = options
    controller = await SystemController.start({ ...fromConfig, ...given, store, ...(bus ? { bus } : {}), ...(redis ? { redis } : {}), logger: log })
  } catch (error) {
    await closeAll()
    throw error
  }
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      await controller.stop()
      await closeAll()
    })()
    return stopping
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    log.info({ signal }, 'signal: stopping')
    void stop()
  }
  if (options.handleSignals !== false) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }
  return { controller, stop }
}

async function openEngines(config: SkaldsConfig, log: Logger, opened: Array<{ close(): Promise<void> }>): Promise<{ store: TaskStore; bus: EventBus | undefined; redis: RedisConnection | undefined }> {
  const { openTaskStore } = await import('../store/open.ts')
  const store = await openTaskStore(config.store)
  opened.push(store)
  let redis: RedisConnection | undefined
  if (config.redis) {
    const { RedisConnection } = await import('../redis/connection.ts')
    redis = await RedisConnection.connect({ ...config.redis, logger: log })
    opened.push(redis)
  } else {
    log.warn('no Redis configured (REDIS_URL / REDIS_HOST): this controller sees no Skald and serves the store only')
  }
  const { openBus } = await import('../bus/open.ts')
  const bus = await openBus(config, { logger: log })
  opened.push(bus)
  if (bus.kind === 'memory') log.warn('the bus is in-process (SKALDS_BUS=memory or no Redis/Kafka): commands reach no Skald outside this process')
  return { store, bus, redis }
}
