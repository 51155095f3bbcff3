// The demo's errors, each with a stable code (SkaldsError): what a caller (the CLI) branches on.
import { SkaldsError } from '../model/errors.ts'

/** A runDemo() option that cannot work; the message names the option. */
export class DemoOptionsError extends SkaldsError {
  constructor(message: string) {
    super('E_DEMO_OPTIONS', message)
  }
}

/** The API refused an example task; the message carries its answer. */
export class DemoSeedError extends SkaldsError {
  constructor(message: string) {
    super('E_DEMO_SEED', message)
  }
}

/** The demo's controller did not report healthy in time; the message carries its last health report. */
export class DemoUnhealthyError extends SkaldsError {
  constructor(message: string) {
    super('E_DEMO_UNHEALTHY', message)
  }
}
