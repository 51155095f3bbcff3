// Addresses of the real servers the integration tests talk to, as `npm run services -- env` exports them.
// A missing address is an error, never a silent skip: `npm test` always provisions them.

export interface RedisTarget {
  /** short name used in test titles */
  name: string
  /** redis:// URL for a single server */
  url?: string
  /** host:port list of cluster masters */
  clusterNodes?: string[]
}

function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the tests through \`npm test\` (it provisions servers) or export it yourself`)
  }
  return value
}

export function redis8Url(): string {
  return required('REDIS_URL')
}

export function redisLegacyUrl(): string {
  return required('REDIS_LEGACY_URL')
}

export function redisClusterNodes(): string[] {
  return required('REDIS_CLUSTER_NODES').split(',').map((s) => s.trim()).filter(Boolean)
}

/** Every Redis flavour a contract suite must pass on. */
export function redisTargets(): RedisTarget[] {
  return [
    { name: 'redis8', url: redis8Url() },
    { name: 'redis7-legacy', url: redisLegacyUrl() },
    { name: 'cluster', clusterNodes: redisClusterNodes() },
  ]
}

/** A key prefix unique to one test run, so parallel files never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `t:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`
}

/** The MongoDB wire-protocol server (FerretDB or mongod) the Disk Storage tests use. */
export function mongoUrl(): string {
  return required('MONGO_URL')
}

/** The Kafka broker(s) the Event Queue tests use, `host:port[,host:port…]`. */
export function kafkaBrokers(): string {
  return required('KAFKA_BROKERS')
}
