// loadConfig: Skalds' variable names and URL forms, `.env`, engine selection, and errors naming the variable.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/env.ts'
import { ConfigFileError, InvalidConfigError } from '../../src/config/errors.ts'

const load = (env: Record<string, string>, dotenv: string | false = false) => loadConfig({ env, dotenv })

function dotenvFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-env-'))
  const path = join(dir, '.env')
  writeFileSync(path, text)
  return path
}

function rejects(env: Record<string, string>, variable: string, reason: RegExp, dotenv: string | false = false): void {
  assert.throws(
    () => load(env, dotenv),
    (e: unknown) => e instanceof InvalidConfigError && e.code === 'E_INVALID_CONFIG' && e.variable === variable && reason.test(e.message),
  )
}

void test('config: nothing set → the embedded engines (memory cache and bus, SQLite) and the documented defaults', () => {
  const config = load({})
  assert.equal(config.redis, undefined)
  assert.equal(config.kafka, undefined)
  assert.equal(config.bus, 'memory')
  assert.deepEqual(config.store, { engine: 'sqlite', path: 'skalds.db' })
  assert.match(config.skald.id, /^skalds-[0-9a-f]{5}$/)
  assert.equal(config.skald.mode, 'node')
  assert.equal(config.skald.syncPeriodMs, 3000)
  assert.equal(config.skald.keyTtlMs, 3_600_000)
  assert.deepEqual(
    { ...config.controller },
    {
      mode: 'CONTROLLER', host: '127.0.0.1', port: 8000, monitorSkaldIntervalMs: 5000, monitorTaskIntervalMs: 3000, heartbeatTimeoutMs: 5000, dispatcherIntervalMs: 5000, dispatcherStrategy: 'LEAST_TASKS',
      apiToken: undefined,
      apiStrict: false,
      apiCorsOrigins: undefined,
      apiCorsCredentials: false,
      apiRateLimit: { limit: 1200, windowMs: 60_000 },
      apiBodyLimitBytes: 1_048_576,
      alertWebhooks: undefined,
      instanceId: undefined,
    },
  )
  assert.equal(config.log.level, 'info')
  assert.deepEqual(config.sources, {})
})

void test('config: Redis from REDIS_HOST/PORT/PASSWORD (Skalds), REDIS_URL, or REDIS_CLUSTER_NODES, in that order of precedence reversed', () => {
  assert.deepEqual(load({ REDIS_HOST: 'cache.local', REDIS_PORT: '6380', REDIS_PASSWORD: 's3cret' }).redis, { host: 'cache.local', port: 6380, password: 's3cret' })
  assert.deepEqual(load({ REDIS_HOST: 'cache.local' }).redis, { host: 'cache.local', port: 6379 })
  assert.deepEqual(load({ REDIS_URL: 'rediss://u:p@h:1/2', REDIS_HOST: 'ignored' }).redis, { url: 'rediss://u:p@h:1/2' })
  assert.deepEqual(load({ REDIS_CLUSTER_NODES: 'a:1, b:2', REDIS_URL: 'redis://x', REDIS_PASSWORD: 'pw', REDIS_KEY_PREFIX: 'app:' }).redis, {
    cluster: { nodes: ['a:1', 'b:2'] },
    password: 'pw',
    keyPrefix: 'app:',
  })
  // Python: an empty REDIS_HOST means "no Redis".
  assert.equal(load({ REDIS_HOST: '' }).redis, undefined)
})

void test('config: the bus follows what is configured (Kafka, else Redis Streams, else memory) unless SKALDS_BUS says otherwise', () => {
  assert.equal(load({ REDIS_URL: 'redis://h' }).bus, 'redis-streams')
  assert.equal(load({ REDIS_URL: 'redis://h', KAFKA_BROKERS: 'k:9092' }).bus, 'kafka')
  assert.deepEqual(load({ KAFKA_HOST: 'k' }).kafka, { brokers: ['k:9092'] })
  assert.deepEqual(load({ KAFKA_HOST: 'k', KAFKA_PORT: '19092', KAFKA_USERNAME: 'u', KAFKA_PASSWORD: 'p' }).kafka, { brokers: ['k:19092'], username: 'u', password: 'p' })
  assert.deepEqual(load({ KAFKA_BROKERS: 'a:1,b:2', KAFKA_HOST: 'ignored' }).kafka, { brokers: ['a:1', 'b:2'] })
  assert.equal(load({ REDIS_URL: 'redis://h', KAFKA_BROKERS: 'k:9092', SKALDS_BUS: 'redis-streams' }).bus, 'redis-streams')
  assert.equal(load({ REDIS_URL: 'redis://h', SKALDS_BUS: 'memory' }).bus, 'memory')
  rejects({ SKALDS_BUS: 'kafka' }, 'SKALDS_BUS', /no broker is configured/)
  rejects({ SKALDS_BUS: 'redis-streams' }, 'SKALDS_BUS', /no Redis is configured/)
  rejects({ SKALDS_BUS: 'rabbit' }, 'SKALDS_BUS', /must be auto, memory, redis-streams or kafka/)
})

void test('config: the store is MongoDB from MONGO_URL or Skalds\' MONGO_HOST (URI or bare host), else SQLite', () => {
  assert.deepEqual(load({ MONGO_URL: 'mongodb://m:27017/', DB_NAME: 'prod' }).store, { engine: 'mongodb', url: 'mongodb://m:27017/', dbName: 'prod' })
  assert.deepEqual(load({ MONGO_HOST: 'mongodb://root:root@m:27017/' }).store, { engine: 'mongodb', url: 'mongodb://root:root@m:27017/', dbName: 'skalds' })
  assert.deepEqual(load({ MONGO_HOST: 'm' }).store, { engine: 'mongodb', url: 'mongodb://m:27017/', dbName: 'skalds' })
  assert.deepEqual(load({ MONGO_HOST: 'm:27018' }).store, { engine: 'mongodb', url: 'mongodb://m:27018/', dbName: 'skalds' })
  assert.deepEqual(load({ SKALDS_SQLITE_PATH: '/data/s.db' }).store, { engine: 'sqlite', path: '/data/s.db' })
  rejects({ MONGO_URL: 'postgres://x' }, 'MONGO_URL', /mongodb:\/\//)
  rejects({ MONGO_URL: 'mongodb://m/', DB_NAME: 'a/b' }, 'DB_NAME', /database name/)
})

void test('config: Skalds\' seconds become ms; case-insensitive enums; Python\'s LOG_LEVEL spelling', () => {
  const config = load({
    SKALD_ID: 'gpu-node-1',
    SKALD_MODE: 'edge',
    YAML_FILE: 'workers.yml',
    REDIS_SYNC_PERIOD: '1.5',
    MONITOR_TASK_INTERVAL: '4',
    DISPATCHER_STRATEGY: 'round_robin',
    SYSTEM_CONTROLLER_MODE: 'monitor',
    LOG_LEVEL: 'DEBUG',
    LOG_SPLIT_WITH_WORKER_ID: 'Yes',
  })
  assert.equal(config.skald.id, 'gpu-node-1')
  assert.equal(config.skald.mode, 'edge')
  assert.equal(config.skald.yamlFile, 'workers.yml')
  assert.equal(config.skald.syncPeriodMs, 1500)
  assert.equal(config.controller.monitorTaskIntervalMs, 4000)
  assert.equal(config.controller.dispatcherStrategy, 'ROUND_ROBIN')
  assert.equal(config.controller.mode, 'MONITOR')
  assert.equal(config.log.level, 'debug')
  assert.equal(config.log.splitWithWorkerId, true)
})

void test('config: every bad value names its variable and the reason', () => {
  rejects({ REDIS_PORT: 'abc', REDIS_HOST: 'h' }, 'REDIS_PORT', /must be an integer|between 1 and 65535|number/)
  rejects({ REDIS_PORT: '70000', REDIS_HOST: 'h' }, 'REDIS_PORT', /between 1 and 65535/)
  rejects({ REDIS_URL: 'http://h:6379' }, 'REDIS_URL', /redis:\/\/ or rediss:\/\//)
  rejects({ REDIS_URL: 'not a url' }, 'REDIS_URL', /is not a URL/)
  rejects({ REDIS_HOST: 'redis://h' }, 'REDIS_HOST', /no scheme, no port/)
  rejects({ REDIS_CLUSTER_NODES: 'a:1,b' }, 'REDIS_CLUSTER_NODES', /host:port/)
  rejects({ KAFKA_BROKERS: 'k' }, 'KAFKA_BROKERS', /host:port/)
  rejects({ SKALD_MODE: 'Node' }, 'SKALD_MODE', /node, edge or single_process/)
  rejects({ MONITOR_TASK_INTERVAL: '1' }, 'MONITOR_TASK_INTERVAL', /at least 3/)
  rejects({ DISPATCHER_STRATEGY: 'fastest' }, 'DISPATCHER_STRATEGY', /LEAST_TASKS, ROUND_ROBIN, RANDOM, LEAST_LOAD/)
  rejects({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /must be one of/)
  rejects({ LOG_SPLIT_WITH_WORKER_ID: 'maybe' }, 'LOG_SPLIT_WITH_WORKER_ID', /must be one of true/)
  rejects({ SKALDS_API_TOKEN: 'short' }, 'SKALDS_API_TOKEN', /at least 16/)
  rejects({ SYSTEM_CONTROLLER_PORT: '0' }, 'SYSTEM_CONTROLLER_PORT', /between 1 and 65535/)
  rejects({ SKALDS_API_RATE_LIMIT: 'lots' }, 'SKALDS_API_RATE_LIMIT', /<requests>\/<window>/)
  rejects({ SKALDS_API_RATE_LIMIT: '0/1m' }, 'SKALDS_API_RATE_LIMIT', /at least 1 request/)
  rejects({ SKALDS_API_CORS_ORIGINS: 'ops.example.com' }, 'SKALDS_API_CORS_ORIGINS', /origin like https/)
  rejects({ SKALDS_API_BODY_LIMIT: '10' }, 'SKALDS_API_BODY_LIMIT', /at least 1024/)
  rejects({ SKALDS_API_STRICT: 'sometimes' }, 'SKALDS_API_STRICT', /must be one of true/)
  rejects({ SKALDS_CONTROLLER_ID: 'a b' }, 'SKALDS_CONTROLLER_ID', /letters, digits/)
})

void test('config: log files (LOG_PATH, LOG_ROTATION_MB, LOG_RETENTION) are off by default; Python\'s retention phrases read', () => {
  assert.deepEqual(load({}).log, { level: 'info', path: undefined, rotationMb: 10, retentionMs: 3 * 86_400_000, splitWithWorkerId: false })
  const day = 86_400_000
  const retention = (value: string): number => load({ LOG_RETENTION: value }).log.retentionMs
  assert.equal(retention('3 days'), 3 * day)
  assert.equal(retention('1 day'), day)
  assert.equal(retention('3'), 3 * day, "a bare number is days (Python's .env.example writes 3)")
  assert.equal(retention('12 hours'), 12 * 3_600_000)
  assert.equal(retention('1 Week'), 7 * day)
  assert.equal(retention('90 minutes'), 90 * 60_000)
  assert.equal(retention('12h'), 12 * 3_600_000)
  assert.equal(retention('2d'), 2 * day)
  const files = load({ LOG_PATH: ' /var/log/skalds ', LOG_ROTATION_MB: '0.5' }).log
  assert.equal(files.path, '/var/log/skalds')
  assert.equal(files.rotationMb, 0.5)
  rejects({ LOG_RETENTION: 'soon' }, 'LOG_RETENTION', /must be a duration like '3 days'/)
  rejects({ LOG_RETENTION: '10 seconds' }, 'LOG_RETENTION', /at least a minute/)
  rejects({ LOG_ROTATION_MB: '0' }, 'LOG_ROTATION_MB', /more than 0/)
  rejects({ LOG_ROTATION_MB: 'big' }, 'LOG_ROTATION_MB', /number of MB/)
  rejects({ LOG_PATH: '   ' }, 'LOG_PATH', /must name a directory/)
})

void test('config: the API settings of the controller', () => {
  const defaults = load({}).controller
  assert.deepEqual(defaults.apiRateLimit, { limit: 1200, windowMs: 60_000 })
  assert.equal(defaults.apiStrict, false)
  assert.equal(defaults.apiCorsOrigins, undefined)
  assert.equal(defaults.apiBodyLimitBytes, 1_048_576)
  const c = load({
    SKALDS_API_RATE_LIMIT: '50/10s',
    SKALDS_API_CORS_ORIGINS: 'https://a.example, http://b.example:8080',
    SKALDS_API_CORS_CREDENTIALS: 'yes',
    SKALDS_API_STRICT: 'true',
    SKALDS_API_BODY_LIMIT: '4096',
    SKALDS_CONTROLLER_ID: 'ctl-1',
    SKALDS_ALERT_WEBHOOKS: 'https://hooks.example/x',
  }).controller
  assert.deepEqual(c.apiRateLimit, { limit: 50, windowMs: 10_000 })
  assert.deepEqual(c.apiCorsOrigins, ['https://a.example', 'http://b.example:8080'])
  assert.equal(c.apiCorsCredentials, true)
  assert.equal(c.apiStrict, true)
  assert.equal(c.apiBodyLimitBytes, 4096)
  assert.equal(c.instanceId, 'ctl-1')
  assert.equal(c.alertWebhooks, 'https://hooks.example/x')
  assert.equal(load({ SKALDS_API_RATE_LIMIT: 'OFF' }).controller.apiRateLimit, false)
  assert.equal(load({ SKALDS_API_CORS_ORIGINS: '*' }).controller.apiCorsOrigins, '*')
})

void test('config: .env fills what the environment leaves unset, and its errors name the file and line', () => {
  const path = dotenvFile('# Skalds\n\nREDIS_HOST=from-file\nexport REDIS_PORT=6381\nSKALD_ID="quoted id"\nMONGO_URL=mongodb://m/\n')
  assert.throws(() => load({}, path), (e: unknown) => e instanceof InvalidConfigError && e.variable === 'SKALD_ID' && e.message.startsWith(`${path}:5: SKALD_ID:`))
  const ok = dotenvFile('REDIS_HOST=from-file\nexport REDIS_PORT=6381\nMULTI="a\nb"\nMONGO_URL=mongodb://m/\n')
  const config = load({ REDIS_PORT: '6400' }, ok)
  assert.deepEqual(config.redis, { host: 'from-file', port: 6400 })
  assert.equal(config.sources.REDIS_HOST, `${ok}:1`)
  assert.equal(config.sources.REDIS_PORT, 'environment')
  assert.equal(config.sources.MONGO_URL, `${ok}:5`)
  const bad = dotenvFile('REDIS_HOST=h\nREDIS_PORT=nope\n')
  rejects({}, 'REDIS_PORT', new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: REDIS_PORT: `), bad)
  const garbage = dotenvFile('REDIS_HOST=h\nthis is not an assignment\n')
  assert.throws(() => load({}, garbage), (e: unknown) => e instanceof ConfigFileError && e.message.startsWith(`${garbage}:2: expected NAME=value`))
  assert.doesNotThrow(() => load({}, join(tmpdir(), 'no-such-dir-skalds', '.env')), 'a missing .env is fine')
})
