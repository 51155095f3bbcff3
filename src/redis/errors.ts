// The errors of the Redis layer, and the argument error every layer above it shares: one class per error code, so
// callers can branch on `instanceof` or on `code` alike.
import { SkaldsError } from '../model/errors.ts'

export { SkaldsError }

/** The server cannot be reached (refused, reset, DNS) or the client is closed. */
export class RedisUnavailableError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REDIS_UNAVAILABLE', message, options)
  }
}

/** A command did not answer within its timeout. */
export class RedisTimeoutError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REDIS_TIMEOUT', message, options)
  }
}

/** Wrong password, unknown ACL user, or a server that requires auth. */
export class RedisAuthError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REDIS_AUTH', message, options)
  }
}

/** The configuration does not match the server: a cluster node given as a single server, and the like. */
export class RedisTopologyError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REDIS_TOPOLOGY', message, options)
  }
}

/** Keys of one multi-key operation hash to different cluster slots. */
export class CrossSlotError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REDIS_CROSSSLOT', message, options)
  }
}

/** The circuit breaker is open: Redis failed repeatedly and calls are short-circuited until a probe succeeds. */
export class CircuitOpenError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_CIRCUIT_OPEN', message, options)
  }
}

/** An argument is invalid: the message names it and says why. */
export class InvalidArgumentError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_INVALID_ARGUMENT', message, options)
  }
}

/** The PubSub instance (or the subscription) is closed. */
export class PubSubClosedError extends SkaldsError {
  constructor(message: string) {
    super('E_PUBSUB_CLOSED', message)
  }
}

/** Any other error reply from the server (WRONGTYPE, OOM, ...), with the server's text kept. */
export class RedisCommandError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_REDIS_COMMAND', message, options)
  }
}

/** Turns whatever node-redis threw into one of the classes above, keeping the original as `cause`. */
export function toSkaldsError(error: unknown, context: string): SkaldsError {
  if (error instanceof SkaldsError) return error
  const err = error instanceof Error ? error : new Error(String(error))
  const text = err.message
  const name = err.name
  if (name === 'TimeoutError' || /timeout/i.test(text) && !/ERR/.test(text)) {
    return new RedisTimeoutError(`${context}: no reply within the command timeout (${text})`, { cause: err })
  }
  if (/WRONGPASS|NOAUTH|NOPERM|invalid username-password/i.test(text)) {
    return new RedisAuthError(`${context}: authentication failed (${text})`, { cause: err })
  }
  if (/CROSSSLOT/.test(text)) {
    return new CrossSlotError(`${context}: keys of one call hash to different cluster slots (${text})`, { cause: err })
  }
  if (
    /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|EPIPE|ETIMEDOUT|Socket closed|client is closed|client is offline|offline queue|queue is full|root nodes are unavailable|Cluster closed|Disconnects client|ClientClosed|SocketClosed|Connection is closed|The client is closed|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN/i.test(
      text + name,
    )
  ) {
    return new RedisUnavailableError(`${context}: Redis is unreachable (${text})`, { cause: err })
  }
  return new RedisCommandError(`${context}: ${text}`, { cause: err })
}

/** True for errors that mean "Redis is not serving", as opposed to a bad command. */
export function isOutageError(error: unknown): boolean {
  return error instanceof RedisUnavailableError || error instanceof RedisTimeoutError || error instanceof CircuitOpenError
}
