// Errors of the Bloom filter module.
import { SkaldsError } from '../../model/errors.ts'

/** A filter of that name exists with other parameters (capacity / error rate) than `create` asked for. */
export class BloomConfigMismatchError extends SkaldsError {
  constructor(message: string) {
    super('E_BLOOM_CONFIG_MISMATCH', message)
  }
}

/** The filter was deleted (or expired) after it was created. */
export class BloomNotFoundError extends SkaldsError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_BLOOM_NOT_FOUND', message, options)
  }
}
