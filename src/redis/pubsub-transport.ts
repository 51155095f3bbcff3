// The part of pub/sub that differs between Redis and the in-process bus: raw string payloads on named channels.
// `TypedPubSub` (src/coordination/pubsub/pubsub.ts) adds JSON, types, validation, buffering and iterators on top
// of any transport.
import type { Logger } from '../config/logger.ts'

/** Receives a raw payload and the full channel name it arrived on. */
export type RawListener = (payload: string, channel: string) => void

export interface PubSubTransport {
  readonly kind: 'memory' | 'redis'
  /** Whether channels use sharded pub/sub unless a channel says otherwise (a cluster with SSUBSCRIBE). */
  readonly shardedByDefault: boolean
  /** Publishes; resolves with the number of receivers the server reports (in-process: listeners reached). */
  publish(channel: string, payload: string, sharded: boolean): Promise<number>
  /** Adds a listener; the first listener of a channel subscribes it. */
  listen(channel: string, listener: RawListener, sharded: boolean): Promise<void>
  /** Removes a listener; the last one unsubscribes the channel. */
  unlisten(channel: string, listener: RawListener, sharded: boolean): Promise<void>
  /** Adds a listener for a glob pattern (never sharded: patterns see messages published with plain PUBLISH). */
  listenPattern(pattern: string, listener: RawListener): Promise<void>
  unlistenPattern(pattern: string, listener: RawListener): Promise<void>
  close(): Promise<void>
}

/** Calls each listener; one that throws is logged and never keeps the message from the others. */
export function deliver(listeners: Iterable<RawListener>, payload: string, channel: string, logger: Logger): void {
  for (const listener of listeners) {
    try {
      listener(payload, channel)
    } catch (error) {
      logger.error({ err: error, channel }, `pubsub: a listener of ${channel} threw; the other listeners still got the message`)
    }
  }
}
