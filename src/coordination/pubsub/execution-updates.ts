// The execution-status update channel of seed 003 (§6.2): `execution:{id}:updates`, one JSON message per event.
import { InvalidArgumentError } from '../../redis/errors.ts'
import type { Channel, PubSubSubscription, PubSubSubscribeOptions, TypedPubSub } from './pubsub.ts'

/** One status update of an execution. */
export interface ExecutionUpdate<D = unknown> {
  executionId: string
  /** What happened, e.g. `started`, `progress`, `step_completed`, `completed`, `failed`. */
  eventType: string
  /** Event details; free-form JSON. */
  data: D
  /** ISO-8601 time the update was published. */
  timestamp: string
}

/** The channel name of an execution's updates. */
export function executionUpdatesChannel(executionId: string): string {
  if (typeof executionId !== 'string' || executionId.length === 0) {
    throw new InvalidArgumentError(`executionId: must be a non-empty string, got ${JSON.stringify(executionId)}`)
  }
  return `execution:${executionId}:updates`
}

/** Checks the shape of a received update; subscriptions drop (and count as invalid) anything else. */
export function parseExecutionUpdate<D = unknown>(value: unknown): ExecutionUpdate<D> {
  const v = value as Partial<ExecutionUpdate<D>> | null
  if (v === null || typeof v !== 'object') throw new TypeError('execution update: not an object')
  if (typeof v.executionId !== 'string') throw new TypeError('execution update: executionId is not a string')
  if (typeof v.eventType !== 'string') throw new TypeError('execution update: eventType is not a string')
  if (typeof v.timestamp !== 'string') throw new TypeError('execution update: timestamp is not a string')
  return { executionId: v.executionId, eventType: v.eventType, data: v.data as D, timestamp: v.timestamp }
}

export interface ExecutionUpdates<D = unknown> {
  readonly executionId: string
  readonly channel: Channel<ExecutionUpdate<D>>
  /** Publishes `{ executionId, eventType, data, timestamp: now }`; resolves with the receiver count. */
  publish(eventType: string, data: D): Promise<number>
  subscribe(options?: Omit<PubSubSubscribeOptions<ExecutionUpdate<D>>, 'sharded' | 'parse'>): Promise<PubSubSubscription<ExecutionUpdate<D>>>
}

/** The ready-made update channel of one execution. */
export function executionUpdates<D = unknown>(pubsub: TypedPubSub, executionId: string): ExecutionUpdates<D> {
  const channel = pubsub.channel<ExecutionUpdate<D>>(executionUpdatesChannel(executionId), { parse: parseExecutionUpdate<D> })
  return {
    executionId,
    channel,
    publish: (eventType, data) => {
      if (typeof eventType !== 'string' || eventType.length === 0) {
        return Promise.reject(new InvalidArgumentError(`eventType: must be a non-empty string, got ${JSON.stringify(eventType)}`))
      }
      return channel.publish({ executionId, eventType, data, timestamp: new Date().toISOString() })
    },
    subscribe: (options) => channel.subscribe(options),
  }
}

/** Subscribes to the updates of every execution (pattern `execution:*:updates`; sees unsharded publishes only). */
export function allExecutionUpdates<D = unknown>(
  pubsub: TypedPubSub,
  options?: Omit<PubSubSubscribeOptions<ExecutionUpdate<D>>, 'sharded' | 'parse'>,
): Promise<PubSubSubscription<ExecutionUpdate<D>>> {
  return pubsub.pSubscribe<ExecutionUpdate<D>>('execution:*:updates', { ...options, parse: parseExecutionUpdate<D> })
}
