export { TypedPubSub } from './pubsub.ts'
export type { Channel, ChannelOptions, MessageParser, OverflowPolicy, PubSubMessage, SubscribeOptions, Subscription, TypedPubSubOptions } from './pubsub.ts'
export { deliver, type PubSubTransport, type RawListener } from '../../redis/pubsub-transport.ts'
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
