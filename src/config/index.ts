// skalds/config: the environment and `.env` read in one place, with Skalds' variable names (docs/configuration.md);
// the Duration type of every time option, and the logger every component takes.
export {
  loadConfig,
  type LoadConfigOptions,
  type SkaldsConfig,
  type RedisEnvConfig,
  type KafkaEnvConfig,
  type StoreEnvConfig,
  type SkaldMode,
  type ControllerMode,
  type DispatchStrategy,
  type BusEngine,
} from './env.ts'
export { InvalidConfigError, ConfigFileError, InvalidDurationError } from './errors.ts'
export {
  parseTaskWorkersYaml,
  readTaskWorkersFile,
  TaskWorkersFileError,
  type TaskWorkerEntry,
  type ParseTaskWorkersOptions,
} from './taskworkers-yaml.ts'
export type { Duration } from './duration.ts'
export { type Logger, type LogFn, createLogger, silentLogger } from './logger.ts'
