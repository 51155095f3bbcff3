// Errors of the pub/sub module (PubSubClosedError belongs to the transport, in src/redis/errors.ts).
import { SkaldsError } from '../../model/errors.ts'

/** A subscription's buffer filled up under the `error` overflow policy; the subscription has ended. */
export class PubSubOverflowError extends SkaldsError {
  constructor(message: string) {
    super('E_PUBSUB_OVERFLOW', message)
  }
}
