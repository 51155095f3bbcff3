// Errors of configuration input: each names the field and the reason.
import { SkaldsError } from '../model/errors.ts'

export class InvalidDurationError extends SkaldsError {
  constructor(message: string) {
    super('E_INVALID_DURATION', message)
  }
}

/** An environment variable (or `.env` entry) has a value that cannot be used; `variable` names it. */
export class InvalidConfigError extends SkaldsError {
  readonly variable: string
  readonly reason: string
  /** where the value came from: `environment` or `<file>:<line>` of a `.env` file */
  readonly source: string
  constructor(variable: string, reason: string, source: string, options?: ErrorOptions) {
    super('E_INVALID_CONFIG', `${source === 'environment' ? '' : `${source}: `}${variable}: ${reason}`, options)
    this.variable = variable
    this.reason = reason
    this.source = source
  }
}

/** A configuration file (`.env`, the YAML TaskWorkers file) cannot be read or parsed; the message names file and line. */
export class ConfigFileError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_CONFIG_FILE', message, options)
  }
}
