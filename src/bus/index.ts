// skalds/bus: the Event Queue (docs/bus.md): the EventBus interface and its types, the errors, the in-process
// engine, and openBus(), which loads the configured engine on demand. Redis Streams and Kafka have subpaths of their
// own (skalds/bus/redis-streams, skalds/bus/kafka), so importing this one loads neither.
export type { BusEvent, DeadLetter, DeadLetterReason, EventBus, EventHandler, SubscribeOptions, Subscription } from './types.ts'
export { nodeGroupId } from './types.ts'
export type { StandardSchemaV1, StandardSchemaV1Props, StandardSchemaV1Result, StandardSchemaV1Issue } from './standard-schema.ts'
export { DEFAULT_DEAD_LETTER_SUFFIX } from './delivery.ts'
export { BusArgumentError, BusClosedError, BusPublishError, BusSubscribeError } from './errors.ts'
export { MemoryBus, type MemoryBusOptions } from './memory.ts'
export { openBus, type BusConfig, type OpenBusOptions } from './open.ts'
export { ChaosBus, BUS_OPERATIONS, type BusOperation } from './chaos.ts'
