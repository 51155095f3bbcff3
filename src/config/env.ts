// The one place that reads the environment: Skalds' variable names and URL forms (wire §7.1), `.env`, and which
// engine each part runs on. Every value is validated with zod; a bad one is an InvalidConfigError naming the
// variable (and the `.env` line it came from). The result is plain data: the engine layers take it as options.
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { readDotenv } from './dotenv.ts'
import { InvalidConfigError } from './errors.ts'
import { parseDuration } from './duration.ts'

export type SkaldMode = 'node' | 'edge' | 'single_process'
export type ControllerMode = 'CONTROLLER' | 'MONITOR' | 'DISPATCHER'
export type DispatchStrategy = 'LEAST_TASKS' | 'ROUND_ROBIN' | 'RANDOM' | 'LEAST_LOAD'
export type BusEngine = 'memory' | 'redis-streams' | 'kafka'

/** Where Redis is, in the shape the Redis layer's connection options accept. Absent: the in-process engines. */
export interface RedisEnvConfig {
  url?: string
  host?: string
  port?: number
  username?: string
  password?: string
  cluster?: { nodes: string[] }
  keyPrefix?: string
}

export interface KafkaEnvConfig {
  /** `host:port` of each bootstrap broker */
  brokers: string[]
  username?: string
  password?: string
}

export type StoreEnvConfig = { engine: 'mongodb'; url: string; dbName: string } | { engine: 'sqlite'; path: string }

export interface SkaldsConfig {
  /** `SKALD_ENV`, default `DEV` */
  env: string
  /** absent when neither `REDIS_URL`, `REDIS_HOST` nor `REDIS_CLUSTER_NODES` is set */
  redis: RedisEnvConfig | undefined
  /** absent when neither `KAFKA_BROKERS` nor `KAFKA_HOST` is set */
  kafka: KafkaEnvConfig | undefined
  store: StoreEnvConfig
  /** `SKALDS_BUS`, default `auto`: Kafka when brokers are given, else Redis Streams when Redis is, else memory */
  bus: BusEngine
  skald: {
    /** `SKALD_ID`, default `skalds-` + 5 random hex characters (as Python) */
    id: string
    /** `SKALD_MODE`, default `node` */
    mode: SkaldMode
    /** `YAML_FILE`: the TaskWorkers file of edge and single_process modes */
    yamlFile: string | undefined
    /** `REDIS_SYNC_PERIOD` (seconds, default 3), in ms */
    syncPeriodMs: number
    /** `REDIS_KEY_TTL` (seconds, default 3600), in ms */
    keyTtlMs: number
  }
  controller: {
    /** `SYSTEM_CONTROLLER_MODE`, default `CONTROLLER` */
    mode: ControllerMode
    /** `SYSTEM_CONTROLLER_HOST`, default `127.0.0.1` (Python: `0.0.0.0`; listening on every interface is opt-in here) */
    host: string
    /** `SYSTEM_CONTROLLER_PORT`, default 8000 */
    port: number
    /** `MONITOR_SKALD_INTERVAL` (seconds, default 5), in ms */
    monitorSkaldIntervalMs: number
    /** `MONITOR_TASK_INTERVAL` (seconds, default 3, at least 3: the heartbeat period), in ms */
    monitorTaskIntervalMs: number
    /** `MONITOR_HEARTBEAT_TIMEOUT` (seconds, default 5), in ms */
    heartbeatTimeoutMs: number
    /** `DISPATCHER_INTERVAL` (seconds, default 5), in ms: the safety-net sweep */
    dispatcherIntervalMs: number
    /** `DISPATCHER_STRATEGY`, default `LEAST_TASKS`; any case accepted */
    dispatcherStrategy: DispatchStrategy
    /** `SKALDS_API_TOKEN`: the bearer token mutating API routes require; absent = no token */
    apiToken: string | undefined
    /** `SKALDS_API_STRICT`, default false: with a token, require it on every route, reads included */
    apiStrict: boolean
    /** `SKALDS_API_CORS_ORIGINS`: comma-separated origins allowed from browsers, or `*`; absent = same origin only */
    apiCorsOrigins: string[] | '*' | undefined
    /** `SKALDS_API_CORS_CREDENTIALS`, default false */
    apiCorsCredentials: boolean
    /** `SKALDS_API_RATE_LIMIT`, default `1200/1m` (requests per window per client IP); `off` = none */
    apiRateLimit: { limit: number; windowMs: number } | false
    /** `SKALDS_API_BODY_LIMIT` (bytes), default 1048576 */
    apiBodyLimitBytes: number
    /** `SKALDS_CONTROLLER_ID`: this controller's name in the leadership lease; default host name + pid */
    instanceId: string | undefined
    /** `SKALDS_ALERT_WEBHOOKS`, as written: parsed by the controller (parseAlertWebhooksEnv, docs/controller.md) */
    alertWebhooks: string | undefined
  }
  log: {
    /** `LOG_LEVEL`, default `info`; Python's upper-case names accepted */
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
    /** `LOG_PATH`: the directory of the log files; unset (the default) writes none, logs go to stdout only */
    path: string | undefined
    /** `LOG_ROTATION_MB`: a log file is rolled to the next number at this size, MB; default 10 */
    rotationMb: number
    /** `LOG_RETENTION`: log files not written to for this long are removed, ms; default 3 days */
    retentionMs: number
    /** `LOG_SPLIT_WITH_WORKER_ID`: a Skald writes each task's worker lines to a file of their own; default false */
    splitWithWorkerId: boolean
  }
  /** where each variable that was read came from: `environment` or `<.env path>:<line>` */
  sources: Record<string, string>
}

export interface LoadConfigOptions {
  /** the environment to read; default `process.env` */
  env?: NodeJS.ProcessEnv
  /** a `.env` file read under the environment (the environment wins, as python-dotenv); `false` for none. Default `.env` */
  dotenv?: string | false
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
const TRUE = ['true', '1', 'yes', 'y', 'on']
const FALSE = ['false', '0', 'no', 'n', 'off', '']

const port = z.coerce.number().int('must be an integer').min(1, 'must be between 1 and 65535').max(65535, 'must be between 1 and 65535')
const seconds = (min: number) =>
  z.coerce
    .number({ error: 'must be a number of seconds' })
    .refine((n) => Number.isFinite(n), { error: 'must be a number of seconds', abort: true })
    .refine((n) => n >= min, `must be at least ${min} (seconds)`)
    .transform((n) => Math.round(n * 1000))
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:,/]+):\d{1,5}$/, 'must be host:port')
const hostPortList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(hostPort).min(1, 'must list at least one host:port'))
const redisUrl = z
  .string()
  .refine((s) => URL.canParse(s), { error: 'is not a URL (expected redis://[user:password@]host:port[/db])', abort: true })
  .refine((s) => /^rediss?:$/.test(new URL(s).protocol), 'must start with redis:// or rediss://')
const mongoUri = z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI')
const boolean = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => TRUE.includes(s) || FALSE.includes(s), `must be one of ${[...TRUE, ...FALSE.filter(Boolean)].join(', ')}`)
  .transform((s) => TRUE.includes(s))
const corsOrigins = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'each entry must be an origin like https://host[:port] (no path), or *')).min(1, 'must list at least one origin, or *'))
  .transform((list): string[] | '*' => (list.includes('*') ? '*' : list))
// `<requests>/<window>`: 1200/1m, 50/10s, 100/500ms; `off` disables
const rateLimit = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => s === 'off' || /^\d+\/\d+(ms|s|m|h)$/.test(s), 'must be <requests>/<window> like 1200/1m, 50/10s, or off')
  .transform((s) => {
    if (s === 'off') return false as const
    const [, n, w, unit] = /^(\d+)\/(\d+)(ms|s|m|h)$/.exec(s)!
    return { limit: Number(n), windowMs: Number(w) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'] }
  })
  .refine((r) => r === false || (r.limit >= 1 && r.windowMs >= 1), 'must allow at least 1 request in a window of at least 1 ms')
const DAY_MS = 86_400_000
const RETENTION_UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: DAY_MS, week: 7 * DAY_MS }
// Python's loguru phrases (`3 days`, `12 hours`, `1 week`), a bare number of days (Python's .env.example has `3`), or
// this library's durations (`12h`, `3d`)
const logRetention = z
  .string()
  .transform((s, ctx) => {
    const text = s.trim().toLowerCase()
    const words = /^(\d+(?:\.\d+)?)\s*(seconds?|minutes?|hours?|days?|weeks?)?$/.exec(text)
    if (words) return Math.round(Number(words[1]) * RETENTION_UNITS[(words[2] ?? 'day').replace(/s$/, '')]!)
    const duration = parseDuration(text)
    if ('ms' in duration) return duration.ms
    ctx.addIssue({ code: 'custom', message: "must be a duration like '3 days', '12 hours', '1 week', '12h', or a number of days" })
    return z.NEVER
  })
  .refine((ms) => ms >= 60_000, 'must be at least a minute')
const caseInsensitiveEnum = <T extends string>(values: readonly T[]) =>
  z
    .string()
    .transform((s) => s.trim().toUpperCase())
    .refine((s): s is T => (values as readonly string[]).includes(s), `must be one of ${values.join(', ')}`)
    .transform((s) => s)

/** Reads the configuration from the environment and `.env`; throws InvalidConfigError naming the first bad variable. */
export function loadConfig(options: LoadConfigOptions = {}): SkaldsConfig {
  const env = options.env ?? process.env
  const file = options.dotenv === false ? undefined : readDotenv(options.dotenv ?? '.env')
  const sources: Record<string, string> = {}

  /** The raw value of `name` (environment first, then `.env`); empty strings count as unset. */
  const raw = (name: string): string | undefined => {
    const fromEnv = env[name]
    if (fromEnv !== undefined && fromEnv !== '') {
      sources[name] = 'environment'
      return fromEnv
    }
    const fromFile = file?.values[name]
    if (fromFile !== undefined && fromFile !== '') {
      sources[name] = `${file!.path}:${file!.lines[name] ?? '?'}`
      return fromFile
    }
    return undefined
  }
  function read<T>(name: string, schema: z.ZodType<T>): T | undefined
  function read<T>(name: string, schema: z.ZodType<T>, fallback: T): T
  function read<T>(name: string, schema: z.ZodType<T>, fallback?: T): T | undefined {
    const value = raw(name)
    if (value === undefined) return fallback
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid'
      throw new InvalidConfigError(name, `${reason} (got ${JSON.stringify(value)})`, sources[name] ?? 'environment')
    }
    return parsed.data
  }

  const redis = readRedis(read)
  const kafka = readKafka(read)
  const store = readStore(read)
  const busChoice = read('SKALDS_BUS', z.enum(['auto', 'memory', 'redis-streams', 'kafka'], { error: 'must be auto, memory, redis-streams or kafka' }), 'auto')
  let bus: BusEngine
  if (busChoice === 'auto') bus = kafka ? 'kafka' : redis ? 'redis-streams' : 'memory'
  else bus = busChoice
  if (bus === 'kafka' && !kafka) throw new InvalidConfigError('SKALDS_BUS', 'is kafka but no broker is configured (set KAFKA_BROKERS or KAFKA_HOST)', sources.SKALDS_BUS!)
  if (bus === 'redis-streams' && !redis) {
    throw new InvalidConfigError('SKALDS_BUS', 'is redis-streams but no Redis is configured (set REDIS_URL or REDIS_HOST)', sources.SKALDS_BUS!)
  }

  const level = read('LOG_LEVEL', z.string().transform((s) => s.trim().toLowerCase()).pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })), 'info')
  return {
    env: read('SKALD_ENV', z.string(), 'DEV'),
    redis,
    kafka,
    store,
    bus,
    skald: {
      id: read('SKALD_ID', z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 letters, digits or _ . : -'), `skalds-${randomUUID().slice(0, 5)}`),
      mode: read('SKALD_MODE', z.enum(['node', 'edge', 'single_process'], { error: 'must be node, edge or single_process' }), 'node'),
      yamlFile: read('YAML_FILE', z.string()),
      syncPeriodMs: read('REDIS_SYNC_PERIOD', seconds(0.1), 3000),
      keyTtlMs: read('REDIS_KEY_TTL', seconds(1), 3_600_000),
    },
    controller: {
      mode: read('SYSTEM_CONTROLLER_MODE', caseInsensitiveEnum(['CONTROLLER', 'MONITOR', 'DISPATCHER'] as const), 'CONTROLLER'),
      host: read('SYSTEM_CONTROLLER_HOST', z.string().min(1), '127.0.0.1'),
      port: read('SYSTEM_CONTROLLER_PORT', port, 8000),
      monitorSkaldIntervalMs: read('MONITOR_SKALD_INTERVAL', seconds(0.1), 5000),
      monitorTaskIntervalMs: read('MONITOR_TASK_INTERVAL', seconds(3), 3000),
      heartbeatTimeoutMs: read('MONITOR_HEARTBEAT_TIMEOUT', seconds(1), 5000),
      dispatcherIntervalMs: read('DISPATCHER_INTERVAL', seconds(0.1), 5000),
      dispatcherStrategy: read('DISPATCHER_STRATEGY', caseInsensitiveEnum(['LEAST_TASKS', 'ROUND_ROBIN', 'RANDOM', 'LEAST_LOAD'] as const), 'LEAST_TASKS'),
      apiToken: read('SKALDS_API_TOKEN', z.string().min(16, 'must be at least 16 characters')),
      apiStrict: read('SKALDS_API_STRICT', boolean, false),
      apiCorsOrigins: read('SKALDS_API_CORS_ORIGINS', corsOrigins),
      apiCorsCredentials: read('SKALDS_API_CORS_CREDENTIALS', boolean, false),
      apiRateLimit: read('SKALDS_API_RATE_LIMIT', rateLimit, { limit: 1200, windowMs: 60_000 }),
      apiBodyLimitBytes: read('SKALDS_API_BODY_LIMIT', z.coerce.number().int('must be a whole number of bytes').min(1024, 'must be at least 1024 (bytes)'), 1_048_576),
      alertWebhooks: read('SKALDS_ALERT_WEBHOOKS', z.string()),
      instanceId: read('SKALDS_CONTROLLER_ID', z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 letters, digits or _ . : -')),
    },
    log: {
      level,
      path: read('LOG_PATH', z.string().trim().min(1, 'must name a directory')),
      rotationMb: read('LOG_ROTATION_MB', z.coerce.number({ error: 'must be a number of MB' }).positive('must be more than 0 (MB)').max(1_000_000, 'must be at most 1000000 (MB)'), 10),
      retentionMs: read('LOG_RETENTION', logRetention, 3 * DAY_MS),
      splitWithWorkerId: read('LOG_SPLIT_WITH_WORKER_ID', boolean, false),
    },
    sources,
  }
}

type Read = {
  <T>(name: string, schema: z.ZodType<T>): T | undefined
  <T>(name: string, schema: z.ZodType<T>, fallback: T): T
}

/** `REDIS_CLUSTER_NODES`, else `REDIS_URL`, else `REDIS_HOST` + `REDIS_PORT`; `REDIS_USERNAME` / `REDIS_PASSWORD` / `REDIS_KEY_PREFIX` apply to all. */
function readRedis(read: Read): RedisEnvConfig | undefined {
  const nodes = read('REDIS_CLUSTER_NODES', hostPortList)
  const url = read('REDIS_URL', redisUrl)
  const host = read('REDIS_HOST', z.string().regex(/^[^\s/:]+$|^\[[0-9a-fA-F:.]+\]$/, 'must be a host name or address (no scheme, no port)'))
  const redisPort = read('REDIS_PORT', port)
  const username = read('REDIS_USERNAME', z.string())
  const password = read('REDIS_PASSWORD', z.string())
  const keyPrefix = read('REDIS_KEY_PREFIX', z.string())
  const common = { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), ...(keyPrefix === undefined ? {} : { keyPrefix }) }
  if (nodes) return { cluster: { nodes }, ...common }
  if (url) return { url, ...(keyPrefix === undefined ? {} : { keyPrefix }) }
  if (host) return { host, port: redisPort ?? 6379, ...common }
  return undefined
}

/** `KAFKA_BROKERS` (comma-separated host:port), else `KAFKA_HOST` + `KAFKA_PORT`; `KAFKA_USERNAME` / `KAFKA_PASSWORD`. */
function readKafka(read: Read): KafkaEnvConfig | undefined {
  const brokers = read('KAFKA_BROKERS', hostPortList)
  const host = read('KAFKA_HOST', z.string().regex(/^[^\s/:,]+$/, 'must be a host name or address (no scheme, no port)'))
  const kafkaPort = read('KAFKA_PORT', port)
  const username = read('KAFKA_USERNAME', z.string())
  const password = read('KAFKA_PASSWORD', z.string())
  const list = brokers ?? (host ? [`${host}:${kafkaPort ?? 9092}`] : undefined)
  if (!list) return undefined
  return { brokers: list, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) }
}

/** `MONGO_URL`, else Skalds' `MONGO_HOST` (a full URI, or a bare host) → MongoDB on `DB_NAME`; neither → SQLite. */
function readStore(read: Read): StoreEnvConfig {
  const url = read('MONGO_URL', mongoUri)
  const host = read('MONGO_HOST', z.string().regex(/^(mongodb(\+srv)?:\/\/\S+|[^\s/:]+(:\d{1,5})?)$/, 'must be a mongodb:// URI or host[:port]'))
  const dbName = read('DB_NAME', z.string().regex(/^[^/\\. "$*<>:|?]{1,63}$/, 'must be a MongoDB database name (1-63 characters, none of /\\. "$*<>:|?)'), 'skalds')
  const mongo = url ?? (host === undefined ? undefined : host.startsWith('mongodb') ? host : `mongodb://${host.includes(':') ? host : `${host}:27017`}/`)
  if (mongo) return { engine: 'mongodb', url: mongo, dbName }
  return { engine: 'sqlite', path: read('SKALDS_SQLITE_PATH', z.string().min(1), DEFAULT_SQLITE_PATH) }
}

/** The SQLite file used when no MongoDB address is given (relative to the working directory). */
export const DEFAULT_SQLITE_PATH = 'skalds.db'
