// Errors of the pub/sub module.
import { SkaldsError } from '../../model/errors.ts'

/** A subscription's buffer filled up under the `error` overflow policy; the subscription has ended. */
export class PubSubOverflowError extends SkaldsError {
  constructor(message: string) {
    super('E_PUBSUB_OVERFLOW', message)
  }
}

/** The PubSub instance (or the subscription) is closed. */
export class PubSubClosedError extends SkaldsError {
  constructor(message: string) {
    super('E_PUBSUB_CLOSED', message)
  }
}
