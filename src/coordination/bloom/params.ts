// Sizing and hashing shared by the Lua and in-process Bloom filters (the native RedisBloom sizes itself).
// Bit positions: SHA-1 of the item, its first two 32-bit words h1, h2, and position_i = (h1 + i·h2) mod m for
// i in 0..k-1 (Kirsch–Mitzenmacher double hashing). The Lua script computes the same positions with redis.sha1hex,
// so a filter's bits are identical whichever side wrote them.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { integer, number, optionsObject, parseOptions } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'

export interface BloomOptions {
  /** Target false-positive rate once `capacity` items are in, strictly between 0 and 1, e.g. `0.01` for 1%. */
  errorRate: number
  /** Number of items the filter is sized for (a positive integer). Past it the false-positive rate grows. */
  capacity: number
}

export interface BloomParams extends BloomOptions {
  /** bits in the array */
  bits: number
  /** hash positions per item */
  hashes: number
}

/** The most bits a Redis string holds (512 MiB). */
export const MAX_BITS = 2 ** 32

const invalid = (message: string) => new InvalidArgumentError(message)

/** `capacity` first: it is checked (and reported) before `errorRate`. */
const bloomSchema = optionsObject({ capacity: integer(1), errorRate: number(0, 1, true) }).transform((o, ctx): BloomParams => {
  const { capacity, errorRate } = o
  const bits = Math.ceil((-capacity * Math.log(errorRate)) / Math.LN2 ** 2)
  if (bits > MAX_BITS) {
    ctx.addIssue({ code: 'custom', path: ['capacity'], message: `${capacity} items at errorRate ${errorRate} need ${bits} bits, more than the ${MAX_BITS} a Redis string holds` })
    return z.NEVER
  }
  const hashes = Math.max(1, Math.round((bits / capacity) * Math.LN2))
  return { errorRate, capacity, bits, hashes }
})

/**
 * Validates `create` options (InvalidArgumentError `field: reason`, e.g. `capacity: must be a positive integer, got 0`)
 * and computes m = -n·ln p / (ln 2)², k = round(m/n · ln 2).
 */
export function resolveBloomOptions(options: BloomOptions): BloomParams {
  return parseOptions(bloomSchema, options ?? {}, invalid)
}

/** resolveBloomOptions under its older name. */
export const bloomParams = resolveBloomOptions

export function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`name: must be a non-empty string, got ${JSON.stringify(name)}`)
}

/** Checks items are strings; returns them (an empty list is fine). */
export function checkItems(items: readonly string[], field = 'items'): readonly string[] {
  const value: unknown = items
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${field}: must be an array of strings`)
  items.forEach((item, i) => {
    if (typeof item !== 'string') throw new InvalidArgumentError(`${field}[${i}]: must be a string, got ${typeof item}`)
  })
  return items
}

export function checkItem(item: string): void {
  if (typeof item !== 'string') throw new InvalidArgumentError(`item: must be a string, got ${typeof item}`)
}

/** The k bit positions of an item in an array of m bits. */
export function bitPositions(item: string, bits: number, hashes: number): number[] {
  const digest = createHash('sha1').update(item, 'utf8').digest()
  const h1 = digest.readUInt32BE(0)
  let h2 = digest.readUInt32BE(4) % bits
  if (h2 === 0) h2 = 1
  const positions = new Array<number>(hashes)
  for (let i = 0; i < hashes; i++) positions[i] = (h1 + i * h2) % bits
  return positions
}
