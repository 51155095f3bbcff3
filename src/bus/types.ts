// The Event Queue seam: one interface, three engines (in-process, Redis Streams, Kafka). Semantics are fixed here
// and checked by one contract suite (test/contracts/bus-contract.ts) against every implementation.
import type { Duration } from '../config/duration.ts'
import { BusArgumentError } from './errors.ts'
import type { StandardSchemaV1 } from './standard-schema.ts'

/** One delivered event, as a handler sees it. */
export interface BusEvent<T = unknown> {
  /** The topic it was published on. */
  topic: string
  /** The key it was published with (never empty): events of one key are delivered in publish order. */
  key: string
  /** The decoded JSON value, validated by the subscription's schema when one is given. */
  payload: T
  /** An engine id, unique within the topic: `<partition>-<sequence>` (memory), the stream entry id with its
   *  partition (Redis Streams, `<partition>/<id>`), `<partition>:<offset>` (Kafka). */
  id: string
  /** Publish time in epoch ms (engine timestamp). */
  timestamp: number
  /** 1 for the first delivery to this group; higher when redelivered (handler failure, or a takeover after a
   *  consumer died where the engine counts deliveries: memory and Redis Streams do, Kafka restarts at 1). */
  attempt: number
}

/** Handles one event. Resolving acknowledges it; throwing (or rejecting) makes the bus deliver it again. */
export type EventHandler<T = unknown> = (event: BusEvent<T>) => void | Promise<void>

export interface SubscribeOptions<T = unknown> {
  /** Any Standard Schema v1 object (zod 4, valibot, arktype…). Payloads that fail it are dead-lettered with
   *  reason `schema-mismatch` and acknowledged; the handler never sees them. Default: none (any JSON passes). */
  schema?: StandardSchemaV1<unknown, T>
  /** Total deliveries of one event to this group before it is dead-lettered with reason `handler-failed`
   *  (counting the first). Default 5. */
  maxDeliveries?: number
  /** Wait between two deliveries of an event whose handler threw. Default `'1s'`. */
  retryDelay?: Duration
  /** @deprecated use `retryDelay` (same value, in ms). */
  retryDelayMs?: number
  /** Where a group seen for the first time starts: `latest` (only events published from now on; Skalds' parity
   *  setting) or `earliest` (everything the engine still retains). Default `latest`. A group that already exists
   *  always resumes from its own position. */
  startFrom?: 'latest' | 'earliest'
  /** How long `close()` waits for the event in progress to finish before abandoning it unacknowledged (it is then
   *  redelivered to another member of the group, or to this group after a restart). Default `'5s'`. */
  closeTimeout?: Duration
  /** @deprecated use `closeTimeout` (same value, in ms). */
  closeTimeoutMs?: number
}

/** A live subscription. */
export interface Subscription {
  readonly topic: string
  readonly group: string
  /** Stops receiving. The event in progress gets `closeTimeout` to finish and be acknowledged; after that it is
   *  left unacknowledged. Idempotent. */
  close(): Promise<void>
}

/** Why an event went to the dead-letter topic. */
export type DeadLetterReason = 'invalid-json' | 'schema-mismatch' | 'handler-failed'

/**
 * What the dead-letter topic (`<topic><deadLetterSuffix>`, default `<topic>.dlq`) carries, as its JSON payload,
 * under the original key. Every group that rejects an event writes its own record, so a broadcast event that fails
 * in two groups yields two records.
 */
export interface DeadLetter {
  topic: string
  key: string
  group: string
  reason: DeadLetterReason
  /** The error message (parse error, schema issues, or the handler's last error). */
  error: string
  /** Deliveries made before giving up. */
  attempts: number
  /** The original value exactly as it was on the wire (text). */
  value: string
  /** The engine id of the original event (see BusEvent.id). */
  id: string
  /** When it was dead-lettered, epoch ms. */
  failedAt: number
}

/**
 * The Event Queue.
 *
 * Delivery is **at least once**: an event is acknowledged only after its handler resolved; an event whose handler
 * throws is delivered again (in place, after `retryDelayMs`, up to `maxDeliveries`, then dead-lettered), and an
 * event whose consumer died or closed before acknowledging it is delivered again to another member of the group
 * (or to the group once it comes back). Handlers must therefore be idempotent.
 *
 * **Groups.** `subscribe(topic, group, …)` joins the consumer group `group` of `topic`:
 * - subscriptions with the **same group** are *competing consumers*: each event is handled by exactly one member
 *   of the group (more than once only after a failure or a crash, as above);
 * - subscriptions with **different groups** *broadcast*: every group gets every event published after the group
 *   was first created (see `startFrom`).
 * Skalds uses one group per node (`nodeGroupId(skaldId)`) for the broadcast topics `task.assign`, `task.cancel`
 * and `task.update.attachment`, so each node sees every event and a restarted node resumes where it stopped.
 *
 * **Ordering.** Events with the same key are handled in publish order within a group, one at a time: a key's next
 * event is not delivered (to any member) before the previous one was acknowledged or dead-lettered. Events of
 * different keys may be handled concurrently by different members and have no relative order. There is no order
 * across topics.
 *
 * **Bad payloads.** A value that is not JSON, or fails the subscription's schema, is logged, written to the
 * dead-letter topic `<topic>.dlq` (see DeadLetter) and acknowledged: it never stops a consumer.
 *
 * `publish` resolves once the engine has accepted the event (Redis: XADD answered; Kafka: the leader acknowledged
 * with acks=all). It rejects when the engine is unreachable; nothing is buffered, so the caller decides to retry.
 */
export interface EventBus {
  /** Engine name: `memory`, `redis-streams` or `kafka`. */
  readonly kind: string
  /** Publishes `payload` serialized as JSON under a non-empty string key. */
  publish(topic: string, key: string, payload: unknown): Promise<void>
  /** Publishes an already-serialized value as it is (e.g. replaying a dead letter's `value`, or tooling).
   *  A value that is not JSON is accepted here and dead-lettered by consumers. */
  publishRaw(topic: string, key: string, value: string): Promise<void>
  /** Joins `group` on `topic`. Resolves once the subscription is registered with the engine, so that events
   *  published afterwards reach the group. */
  subscribe<T = unknown>(topic: string, group: string, handler: EventHandler<T>, options?: SubscribeOptions<T>): Promise<Subscription>
  /** Asks the engine to answer now (a health check: Redis PING, Kafka metadata); rejects when it cannot or the bus is closed. */
  ping(): Promise<void>
  /** Closes every subscription (as Subscription.close) and the engine connections. Idempotent. */
  close(): Promise<void>
}

/** The stable consumer group of a Skald node: a restarted node with the same SKALD_ID resumes from its offsets. */
export function nodeGroupId(skaldId: string): string {
  // BusArgumentError like every other bad bus argument (was a TypeError).
  if (typeof skaldId !== 'string' || skaldId.length === 0) throw new BusArgumentError('nodeGroupId: skaldId must be a non-empty string')
  return `skalds-node-${skaldId}`
}
