// Public entry of the `skalds` package: each layer as a namespace. The engines behind skalds/bus and skalds/store
// (Kafka, Redis Streams, MongoDB, SQLite) are not part of it: openBus and openTaskStore load the configured one,
// and skalds/bus/kafka, skalds/bus/redis-streams, skalds/store/sqlite and skalds/store/mongodb export them.
export * as model from './model/index.ts'
export * as config from './config/index.ts'
export * as redis from './redis/index.ts'
export * as cache from './cache/index.ts'
export * as coordination from './coordination/index.ts'
export * as bus from './bus/index.ts'
export * as store from './store/index.ts'
export * as worker from './worker/index.ts'
export * as workerHosts from './worker/hosts.ts'
export * as skald from './skald/index.ts'
export * as controller from './controller/index.ts'
