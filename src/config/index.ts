// skalds/config: the environment and `.env` read in one place, with Skalds' variable names; durations and logging.
export { loadConfig, DEFAULT_SQLITE_PATH, type LoadConfigOptions, type SkaldsConfig, type RedisEnvConfig, type KafkaEnvConfig, type StoreEnvConfig } from './env.ts'
export type { SkaldMode, ControllerMode, DispatchStrategy, BusEngine } from './env.ts'
export { readDotenv, type DotenvFile } from './dotenv.ts'
export { InvalidConfigError, ConfigFileError, InvalidDurationError } from './errors.ts'
export { type Duration, toMs } from './duration.ts'
export { type Logger, createLogger, silentLogger } from './logger.ts'
