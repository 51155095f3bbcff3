// The value side of the refresh cache: how values are written (limit, TTL or empty TTL, write-then-swap) and read
// (cached, or loaded live on a miss or when the store is down — seed 004's fallback).
import type { Logger } from '../../config/logger.ts'
import { applyLimit, type Job } from './job.ts'
import type { RefreshStore } from './store.ts'

/** Read counters of one job. */
export interface ReadCounters {
  /** reads served from the store */
  hits: number
  /** reads that found no value and loaded live */
  misses: number
  /** reads that loaded live because the store was unreachable */
  fallbacks: number
  /** live loads in flight, per key, shared by concurrent readers */
  live: Map<string, Promise<unknown>>
}

export function newReadCounters(): ReadCounters {
  return { hits: 0, misses: 0, fallbacks: 0, live: new Map() }
}

export class RefreshValues {
  readonly #store: RefreshStore
  readonly #prefix: string
  readonly #logger: Logger

  constructor(store: RefreshStore, prefix: string, logger: Logger) {
    this.#store = store
    this.#prefix = prefix
    this.#logger = logger
  }

  /** Where a key's value lives in the store. */
  keyOf(key: string): string {
    return `${this.#prefix}value:${key}`
  }

  /** Limits, then overwrites the value (write-then-swap: the previous value stays readable until this SET). */
  async write(job: Job, key: string, loaded: unknown): Promise<unknown> {
    const value = applyLimit(loaded, job.limit, `refresh job ${job.name}, key ${key}`)
    const envelope = JSON.stringify({ v: value ?? null, at: Date.now() })
    await this.#store.set(this.keyOf(key), envelope, job.isEmpty(value) ? job.emptyTtlMs : job.ttlMs)
    return value
  }

  async get(job: Job, reads: ReadCounters, key: string): Promise<unknown> {
    let raw: string | undefined
    try {
      raw = await this.#store.get(this.keyOf(key))
    } catch (error) {
      reads.fallbacks++
      this.#logger.warn({ err: error, job: job.name, key }, `refresh ${job.name}: store unreachable, loading ${key} live`)
      return this.#liveLoad(job, reads, key, false)
    }
    if (raw !== undefined) {
      reads.hits++
      return decode(raw)
    }
    reads.misses++
    return this.#liveLoad(job, reads, key, true)
  }

  async getMany(job: Job, reads: ReadCounters, keys: readonly string[]): Promise<unknown[]> {
    let raws: Array<string | undefined>
    try {
      raws = await this.#store.getMany(keys.map((key) => this.keyOf(key)))
    } catch (error) {
      reads.fallbacks += keys.length
      this.#logger.warn({ err: error, job: job.name }, `refresh ${job.name}: store unreachable, loading ${keys.length} keys live`)
      return Promise.all(keys.map((key) => this.#liveLoad(job, reads, key, false)))
    }
    return Promise.all(
      raws.map((raw, i) => {
        if (raw !== undefined) {
          reads.hits++
          return decode(raw)
        }
        reads.misses++
        return this.#liveLoad(job, reads, keys[i]!, true)
      }),
    )
  }

  /** A reader's live load; concurrent readers of one key share it. Cached when the store answered the read. */
  #liveLoad(job: Job, reads: ReadCounters, key: string, cache: boolean): Promise<unknown> {
    const pending = reads.live.get(key)
    if (pending) return pending
    const load = (async () => {
      const loaded = await job.load(key, { key, tick: Date.now(), reason: 'fallback', signal: AbortSignal.timeout(job.timeoutMs) })
      const value = applyLimit(loaded, job.limit, `refresh job ${job.name}, key ${key}`)
      if (cache) {
        await this.write(job, key, value).catch((error: unknown) => {
          this.#logger.warn({ err: error, job: job.name, key }, `refresh ${job.name}: could not cache the live value of ${key}`)
        })
      }
      return value ?? null
    })()
    reads.live.set(key, load)
    const forget = (): void => {
      if (reads.live.get(key) === load) reads.live.delete(key)
    }
    load.then(forget, forget)
    return load
  }
}

function decode(raw: string): unknown {
  try {
    return (JSON.parse(raw) as { v: unknown }).v
  } catch {
    return undefined
  }
}
