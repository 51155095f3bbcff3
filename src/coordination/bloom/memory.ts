// The in-process Bloom filter: a bit array with the same sizing and positions as the Lua one.
import { BloomConfigMismatchError, BloomNotFoundError } from './errors.ts'
import type { BloomFilter, BloomFilterInfo, BloomFilters } from './filter.ts'
import { bitPositions, resolveBloomOptions, checkItem, checkItems, checkName, type BloomOptions, type BloomParams } from './params.ts'

class MemoryBloomFilter implements BloomFilter {
  readonly info: BloomFilterInfo
  readonly #params: BloomParams
  readonly #onDelete: () => void
  #bits: Uint8Array | undefined

  constructor(name: string, params: BloomParams, onDelete: () => void) {
    this.#params = params
    this.#onDelete = onDelete
    this.#bits = new Uint8Array(Math.ceil(params.bits / 8))
    this.info = { name, implementation: 'memory', capacity: params.capacity, errorRate: params.errorRate, bits: params.bits, hashes: params.hashes }
  }

  add(item: string): Promise<boolean> {
    return settle(() => {
      checkItem(item)
      return this.#add(item)
    })
  }

  addMany(items: readonly string[]): Promise<boolean[]> {
    return settle(() => checkItems(items).map((item) => this.#add(item)))
  }

  exists(item: string): Promise<boolean> {
    return settle(() => {
      checkItem(item)
      return this.#exists(item)
    })
  }

  existsMany(items: readonly string[]): Promise<boolean[]> {
    return settle(() => checkItems(items).map((item) => this.#exists(item)))
  }

  delete(): Promise<void> {
    this.#bits = undefined
    this.#onDelete()
    return Promise.resolve()
  }

  #array(): Uint8Array {
    if (!this.#bits) throw new BloomNotFoundError(`bloom ${this.info.name}: the filter was deleted`)
    return this.#bits
  }

  #add(item: string): boolean {
    const bits = this.#array()
    let added = false
    for (const position of bitPositions(item, this.#params.bits, this.#params.hashes)) {
      const mask = 0x80 >> (position & 7)
      const index = position >>> 3
      if ((bits[index]! & mask) === 0) {
        added = true
        bits[index] = bits[index]! | mask
      }
    }
    return added
  }

  #exists(item: string): boolean {
    const bits = this.#array()
    for (const position of bitPositions(item, this.#params.bits, this.#params.hashes)) {
      if ((bits[position >>> 3]! & (0x80 >> (position & 7))) === 0) return false
    }
    return true
  }
}

/** Bloom filters inside one process; `create` with the same name returns the same filter. */
export class MemoryBloom implements BloomFilters {
  readonly #filters = new Map<string, MemoryBloomFilter>()

  create(name: string, options: BloomOptions): Promise<BloomFilter> {
    return settle(() => {
      checkName(name)
      const params = resolveBloomOptions(options)
      const existing = this.#filters.get(name)
      if (existing) {
        if (existing.info.capacity !== params.capacity || existing.info.errorRate !== params.errorRate) throw mismatch(name, existing.info, params)
        return existing
      }
      const filter: MemoryBloomFilter = new MemoryBloomFilter(name, params, () => {
        if (this.#filters.get(name) === filter) this.#filters.delete(name)
      })
      this.#filters.set(name, filter)
      return filter
    })
  }
}

export function mismatch(name: string, existing: { capacity: number; errorRate?: number }, wanted: BloomOptions): BloomConfigMismatchError {
  const had = existing.errorRate === undefined ? `capacity ${existing.capacity}` : `capacity ${existing.capacity}, errorRate ${existing.errorRate}`
  return new BloomConfigMismatchError(
    `bloom ${name}: exists with ${had}; create asked for capacity ${wanted.capacity}, errorRate ${wanted.errorRate} (delete it first to resize)`,
  )
}

/** Runs synchronous work as a promise, so bad input rejects like on the Redis backends instead of throwing. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()))
}
