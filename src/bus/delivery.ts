// What every engine does with one received event, so the semantics cannot drift between engines: decode the JSON,
// validate it, run the handler with in-place retries, dead-letter what cannot be handled.
import { z } from 'zod'
import type { Logger } from '../config/logger.ts'
import { duration, integer, oneOf, optionsObject, parseOptions, renamed } from '../config/options.ts'
import { BusArgumentError, BusClosedError } from './errors.ts'
import { formatIssues, type StandardSchemaV1 } from './standard-schema.ts'
import type { BusEvent, DeadLetter, DeadLetterReason, EventHandler, SubscribeOptions } from './types.ts'

/** Suffix of the dead-letter topic of a topic. */
export const DEFAULT_DEAD_LETTER_SUFFIX = '.dlq'

export interface ResolvedSubscribeOptions<T> {
  schema: StandardSchemaV1<unknown, T> | undefined
  maxDeliveries: number
  retryDelayMs: number
  startFrom: 'latest' | 'earliest'
  closeTimeoutMs: number
}

/** Whole milliseconds, as a Duration. */
export const wholeMs = duration({ whole: true })

const subscribeSchema = optionsObject({
  schema: z
    .custom<StandardSchemaV1>((v) => typeof v === 'object' && v !== null && typeof (v as StandardSchemaV1)['~standard']?.validate === 'function', {
      error: 'must be a Standard Schema v1 object (with a `~standard.validate` function)',
    })
    .optional(),
  maxDeliveries: integer(1).default(5),
  retryDelay: wholeMs.optional(),
  retryDelayMs: wholeMs.optional(),
  startFrom: oneOf(['latest', 'earliest']).default('latest'),
  closeTimeout: wholeMs.optional(),
  closeTimeoutMs: wholeMs.optional(),
}).superRefine((o, ctx) => {
  renamed(o, ctx, 'retryDelay', 'retryDelayMs')
  renamed(o, ctx, 'closeTimeout', 'closeTimeoutMs')
})

/** Validates subscribe options (the same for every engine) and fills the defaults; bad input is a BusArgumentError. */
export function resolveSubscribeOptions<T>(options: SubscribeOptions<T> | undefined, topic?: string): ResolvedSubscribeOptions<T> {
  const o = parseOptions(subscribeSchema, options === undefined ? {} : options, busArgument, topic === undefined ? 'subscribe' : `subscribe ${topic}`)
  return {
    schema: o.schema as StandardSchemaV1<unknown, T> | undefined,
    maxDeliveries: o.maxDeliveries,
    retryDelayMs: o.retryDelay ?? o.retryDelayMs ?? 1000,
    startFrom: o.startFrom,
    closeTimeoutMs: o.closeTimeout ?? o.closeTimeoutMs ?? 5000,
  }
}

/** The bus' argument error, for parseOptions. */
export function busArgument(message: string): BusArgumentError {
  return new BusArgumentError(message)
}

/** The checks of a subscribe every engine makes before anything else: names, a handler, the options. */
export function checkSubscribe<T>(topic: string, group: string, handler: unknown, options: SubscribeOptions<T> | undefined): ResolvedSubscribeOptions<T> {
  checkName('topic', topic)
  checkName('group', group)
  if (typeof handler !== 'function') throw new BusArgumentError(`subscribe ${topic}: handler must be a function`)
  return resolveSubscribeOptions(options, topic)
}

/** Validates the (topic, key) of a publish and the (topic, group) of a subscribe. */
export function checkName(what: 'topic' | 'key' | 'group', value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BusArgumentError(`${what} must be a non-empty string, got ${value === '' ? 'an empty string' : typeof value}`)
  }
  return value
}

/** The checks every engine's publishRaw makes before sending: an open bus, a topic, a key, a string value. */
export function checkPublish(closed: boolean, topic: string, key: string, value: unknown): void {
  if (closed) throw new BusClosedError(`publish ${topic}: the bus is closed`)
  checkName('topic', topic)
  checkName('key', key)
  if (typeof value !== 'string') throw new BusArgumentError(`publish ${topic}: value must be a string`)
}

/** JSON text of a payload; rejects what JSON cannot represent instead of sending `undefined`. */
export function serializePayload(topic: string, payload: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(payload)
  } catch (error) {
    throw new BusArgumentError(`publish ${topic}: payload is not JSON-serializable (${(error as Error).message})`, { cause: error })
  }
  if (text === undefined) throw new BusArgumentError(`publish ${topic}: payload must be a JSON value, got ${typeof payload}`)
  return text
}

/** One event as read from the engine, before decoding. */
export interface RawDelivery {
  key: string
  value: string
  id: string
  timestamp: number
  /** Deliveries so far including this one (1 on the first). */
  attempt: number
}

export interface DeliveryContext<T> {
  topic: string
  group: string
  handler: EventHandler<T>
  options: ResolvedSubscribeOptions<T>
  logger: Logger
  /** Writes a dead letter; rejects when the engine cannot take it (it is then retried). */
  deadLetter: (record: DeadLetter) => Promise<void>
  /** Aborted when the subscription closes: no further retries are started. */
  signal: AbortSignal
}

/** `handled` and `dead-lettered` mean: acknowledge now. `abandoned`: leave it unacknowledged (closing). */
export type DeliveryOutcome = 'handled' | 'dead-lettered' | 'abandoned'

/** Runs one event through decode → schema → handler (with retries) → dead letter. Never throws. */
export async function deliver<T>(ctx: DeliveryContext<T>, raw: RawDelivery): Promise<DeliveryOutcome> {
  let decoded: unknown
  try {
    decoded = JSON.parse(raw.value)
  } catch (error) {
    return deadLetter(ctx, raw, 'invalid-json', (error as Error).message, raw.attempt)
  }
  let payload = decoded as T
  if (ctx.options.schema) {
    let result
    try {
      result = await ctx.options.schema['~standard'].validate(decoded)
    } catch (error) {
      return deadLetter(ctx, raw, 'schema-mismatch', `schema threw: ${(error as Error).message}`, raw.attempt)
    }
    if (result.issues) return deadLetter(ctx, raw, 'schema-mismatch', formatIssues(result.issues), raw.attempt)
    payload = result.value
  }
  for (let attempt = raw.attempt; ; attempt++) {
    const event: BusEvent<T> = { topic: ctx.topic, key: raw.key, payload, id: raw.id, timestamp: raw.timestamp, attempt }
    try {
      await ctx.handler(event)
      return 'handled'
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (attempt >= ctx.options.maxDeliveries) return deadLetter(ctx, raw, 'handler-failed', message, attempt)
      ctx.logger.warn(
        { topic: ctx.topic, group: ctx.group, key: raw.key, id: raw.id, attempt, err: error },
        `bus ${ctx.topic} [${ctx.group}]: handler failed on ${raw.id} (attempt ${attempt}/${ctx.options.maxDeliveries}); retrying in ${ctx.options.retryDelayMs} ms`,
      )
      if (!(await sleep(ctx.options.retryDelayMs, ctx.signal))) return 'abandoned'
    }
  }
}

async function deadLetter<T>(ctx: DeliveryContext<T>, raw: RawDelivery, reason: DeadLetterReason, error: string, attempts: number): Promise<DeliveryOutcome> {
  const record: DeadLetter = {
    topic: ctx.topic,
    key: raw.key,
    group: ctx.group,
    reason,
    error,
    attempts,
    value: raw.value,
    id: raw.id,
    failedAt: Date.now(),
  }
  ctx.logger.error(
    { topic: ctx.topic, group: ctx.group, key: raw.key, id: raw.id, reason, error },
    `bus ${ctx.topic} [${ctx.group}]: event ${raw.id} dead-lettered (${reason}: ${error})`,
  )
  // The event is acknowledged only once its dead letter is stored: keep trying while the engine is away.
  for (;;) {
    try {
      await ctx.deadLetter(record)
      return 'dead-lettered'
    } catch (err) {
      ctx.logger.warn({ topic: ctx.topic, err }, `bus ${ctx.topic} [${ctx.group}]: cannot write the dead letter yet; retrying`)
      if (!(await sleep(Math.max(ctx.options.retryDelayMs, 100), ctx.signal))) return 'abandoned'
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Waits for `work` up to `ms`; resolves true if it settled in time. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([work.then(() => true, () => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A 32-bit FNV-1a hash of a key's UTF-8 bytes, for key → partition routing in the memory and Redis engines. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
