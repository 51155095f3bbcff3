// The Event Queue: one interface (types.ts), three engines.
export type { BusEvent, DeadLetter, DeadLetterReason, EventBus, EventHandler, SubscribeOptions, Subscription } from './types.ts'
export { nodeGroupId } from './types.ts'
export type { StandardSchemaV1 } from './standard-schema.ts'
export { DEFAULT_DEAD_LETTER_SUFFIX } from './delivery.ts'
export { BusArgumentError, BusClosedError, BusPublishError, BusSubscribeError } from './errors.ts'
export { MemoryBus, type MemoryBusOptions } from './memory.ts'
export { RedisStreamsBus, type RedisStreamsBusOptions } from './redis-streams.ts'
export { KafkaBus, type KafkaBusOptions } from './kafka.ts'
