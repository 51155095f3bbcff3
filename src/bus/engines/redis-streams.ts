// skalds/bus/redis-streams: the Redis Streams engine (docs/bus.md). The interface and errors are in skalds/bus.
export { RedisStreamsBus, type RedisStreamsBusOptions } from '../redis-streams.ts'
