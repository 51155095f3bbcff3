// Errors of the Event Queue, one class per code (the base class is in src/model/errors.ts).
import { SkaldsError } from '../model/errors.ts'

/** The bus (or the subscription) is closed. */
export class BusClosedError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BUS_CLOSED', message, options)
  }
}

/** A bus argument is invalid: the message names it and says why. */
export class BusArgumentError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BUS_ARGUMENT', message, options)
  }
}

/** The engine refused or could not take an event (broker/Redis unreachable, topic creation failed, ...). */
export class BusPublishError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BUS_PUBLISH', message, options)
  }
}

/** A subscription could not be set up (group join failed, engine unreachable, ...). */
export class BusSubscribeError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BUS_SUBSCRIBE', message, options)
  }
}
