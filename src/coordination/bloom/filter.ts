// The Bloom filter interface every backend implements (in-process, Lua on plain Redis, native RedisBloom).
import type { BloomOptions } from './params.ts'

export interface BloomFilterInfo {
  name: string
  /** `memory`, `lua` (bit array on plain Redis) or `native` (RedisBloom BF.*) */
  implementation: 'memory' | 'lua' | 'native'
  capacity: number
  errorRate: number
  /** bits in the array (undefined for native: RedisBloom sizes itself) */
  bits?: number
  /** hash positions per item (undefined for native) */
  hashes?: number
}

/** A probabilistic set: `exists` is never false for an added item, and true for others at about `errorRate`. */
export interface BloomFilter {
  readonly info: BloomFilterInfo
  /** Adds one item; true when it was (certainly) not in the filter before. */
  add(item: string): Promise<boolean>
  /** Adds items in one round trip per 1000; one boolean per item as `add` returns. */
  addMany(items: readonly string[]): Promise<boolean[]>
  /** false = certainly never added; true = probably added. */
  exists(item: string): Promise<boolean>
  /** One boolean per item, in order. */
  existsMany(items: readonly string[]): Promise<boolean[]>
  /** Removes the filter and its data. */
  delete(): Promise<void>
}

/** Creates filters, or opens the existing one of that name when its parameters match. */
export interface BloomFilters {
  create(name: string, options: BloomOptions): Promise<BloomFilter>
}
