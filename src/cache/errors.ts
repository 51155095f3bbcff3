// Errors of the cache service and the proxy (values); the Redis layer's own errors are in src/redis/errors.ts.
import { SkaldsError } from '../model/errors.ts'

/** A value could not be serialized or deserialized. */
export class SerializationError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_SERIALIZATION', message, options)
  }
}

/** A value is larger than the configured maximum. */
export class ValueTooLargeError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_VALUE_TOO_LARGE', message, options)
  }
}
