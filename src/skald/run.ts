// runSkald(): a Skald process from the configuration (Skalds' env vars, `.env`): opens the store, the bus and the
// Redis state the config names, starts the Skald, and stops it all on SIGTERM / SIGINT. What the CLI's `node`,
// `edge` and `run` commands and a user's own launcher script call.
import type { EventBus } from '../bus/types.ts'
import { loadConfig, type SkaldsConfig } from '../config/env.ts'
import { logFileSettings, openConfiguredLog } from '../config/log-files.ts'
import type { Logger } from '../config/logger.ts'
import type { RedisConnection } from '../redis/connection.ts'
import type { TaskStore } from '../store/task-store.ts'
import { Skald, type SkaldOptions, type SingleProcessResult } from './skald.ts'
import { WorkerLogFiles } from './worker-log-files.ts'

export interface RunSkaldOptions extends Omit<SkaldOptions, 'skaldId' | 'store' | 'bus' | 'state' | 'mode' | 'yamlFile'> {
  /** default `loadConfig()` (process.env and `.env`) */
  config?: SkaldsConfig
  /** stop on the first SIGTERM / SIGINT (a second one exits at once with code 1, as Python); default true */
  handleSignals?: boolean
}

export interface RunningSkald {
  skald: Skald
  /** resolves with the process exit code once the Skald stopped and its connections closed */
  readonly exited: Promise<number>
  /** stops the Skald (drain), closes what runSkald opened; resolves with the exit code */
  stop(): Promise<number>
}

/**
 * Starts a Skald as the configuration says (`SKALD_ID`, `SKALD_MODE`, `YAML_FILE`, `REDIS_*`, `KAFKA_*`,
 * `MONGO_*`, …; docs/configuration.md). Without Redis it writes no registration or heartbeats (a warning says so).
 * @throws InvalidConfigError, TaskWorkersFileError, TaskManagerError; whatever it opened is closed again first
 */
export async function runSkald(options: RunSkaldOptions): Promise<RunningSkald> {
  const config = options.config ?? loadConfig()
  // LOG_PATH: this process's lines go to <LOG_PATH>/<SKALD_ID>.<n>.log too, its workers' lines as well (or to a
  // file per task with LOG_SPLIT_WITH_WORKER_ID); closed last, after everything that may still log.
  const files = logFileSettings(config)
  const processLog = await openConfiguredLog('skalds:skald', config.skald.id, config, !options.logger)
  const log = options.logger ?? processLog.logger
  const workerLogs = files ? new WorkerLogFiles({ skaldId: config.skald.id, settings: files, split: config.log.splitWithWorkerId, processLog: log }) : undefined
  const opened: Array<{ close(): Promise<void> }> = [processLog]
  if (workerLogs) {
    opened.push(workerLogs)
    processLog.holdOpen(() => workerLogs.openFiles())
  }
  const closeAll = async (): Promise<void> => {
    for (const resource of opened.reverse()) {
      try {
        await resource.close()
      } catch (error) {
        log.warn({ err: error }, 'close failed')
      }
    }
  }
  let skald: Skald
  try {
    const { store, bus, redis } = await openResources(config, log, opened)
    let state: SkaldOptions['state']
    if (redis) {
      const { createRedisSkaldStateBackend } = await import('../state/redis.ts')
      state = createRedisSkaldStateBackend(redis)
    } else {
      log.warn('no Redis configured (REDIS_URL / REDIS_HOST): this Skald writes no registration or heartbeats, so no controller sees it')
    }
    const { config: _config, handleSignals: _signals, ...skaldOptions } = options
    skald = await Skald.start({
      ...skaldOptions,
      skaldId: config.skald.id,
      mode: config.skald.mode,
      store,
      ...(bus ? { bus } : {}),
      ...(state ? { state } : {}),
      ...(config.skald.yamlFile ? { yamlFile: config.skald.yamlFile } : {}),
      syncPeriodMs: options.syncPeriodMs ?? config.skald.syncPeriodMs,
      keyTtlMs: options.keyTtlMs ?? config.skald.keyTtlMs,
      logger: log,
      ...(workerLogs || options.onEvent
        ? {
            onEvent: (event) => {
              workerLogs?.onNodeEvent(event)
              options.onEvent?.(event)
            },
          }
        : {}),
    })
  } catch (error) {
    await closeAll()
    throw error
  }

  let stopping: Promise<number> | undefined
  let signalCode: number | undefined
  const exited = Promise.withResolvers<number>()
  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      await skald.stop()
      await closeAll()
      removeSignals()
      // A node or edge that drained cleanly exits 0; a single_process task cut short by a signal says so (128 + n).
      if (!skald.result) return 0
      if (signalCode !== undefined) return signalCode
      const result: SingleProcessResult = await skald.result
      return result.exitCode
    })()
    stopping.then(exited.resolve, exited.reject)
    return stopping
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    log.info({ signal }, 'signal: draining')
    signalCode = 128 + (signal === 'SIGINT' ? 2 : 15)
    void stop()
  }
  const removeSignals = (): void => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
  if (options.handleSignals !== false) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }
  // single_process: the process ends with its task.
  if (skald.result) void skald.result.then(() => stop())
  return { skald, exited: exited.promise, stop }
}

async function openResources(config: SkaldsConfig, log: Logger, opened: Array<{ close(): Promise<void> }>): Promise<{ store: TaskStore; bus: EventBus | undefined; redis: RedisConnection | undefined }> {
  const { openTaskStore } = await import('../store/open.ts')
  const store = await openTaskStore(config.store)
  opened.push(store)
  let redis: RedisConnection | undefined
  if (config.redis) {
    const { RedisConnection } = await import('../redis/connection.ts')
    redis = await RedisConnection.connect({ ...config.redis, logger: log })
    opened.push(redis)
  }
  // An in-process bus reaches no one outside this process: node mode needs it anyway (tests, the demo); edge and
  // single_process then run without cancel and update, as Python does without Kafka.
  let bus: EventBus | undefined
  if (config.bus !== 'memory' || config.skald.mode === 'node') {
    const { openBus } = await import('../bus/open.ts')
    bus = await openBus(config, { logger: log })
    opened.push(bus)
  }
  return { store, bus, redis }
}
