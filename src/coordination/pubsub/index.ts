export { TypedPubSub } from './pubsub.ts'
export type {
  Channel,
  ChannelOptions,
  MessageParser,
  OverflowPolicy,
  PubSubMessage,
  PubSubSubscribeOptions,
  PubSubSubscription,
  TypedPubSubOptions,
} from './pubsub.ts'
// The seam a custom transport implements (TypedPubSub's constructor takes one).
export type { PubSubTransport, RawListener } from '../../redis/pubsub-transport.ts'
export { MemoryPubSub, MemoryPubSubBus, type MemoryPubSubOptions } from './memory.ts'
export { RedisPubSub, type RedisPubSubOptions } from './redis.ts'
export { PubSubOverflowError } from './errors.ts'
export { PubSubClosedError } from '../../redis/errors.ts'
export {
  allExecutionUpdates,
  executionUpdates,
  executionUpdatesChannel,
  parseExecutionUpdate,
  type ExecutionUpdate,
  type ExecutionUpdates,
} from './execution-updates.ts'
