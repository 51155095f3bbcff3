// Monitoring: per-namespace counters (plain increments on the hot path) and a log of operations slower than a
// threshold, kept in a small ring and logged at warn.
import type { Logger } from '../../config/logger.ts'

/** Counters of one namespace; CacheService increments these fields directly. @internal */
export interface NamespaceCounters {
  /** reads answered from the cache (L1 or L2) */
  hits: number
  /** reads the cache could not answer (absent, expired, or the store failed) */
  misses: number
  /** getOrSet calls answered with a stale value inside its grace period (a refresh runs in the background) */
  staleHits: number
  /** store failures and unreadable entries */
  errors: number
}

export interface NamespaceStats extends NamespaceCounters {
  /** hits / (hits + misses), 0 when there were no reads; stale hits count as hits */
  hitRate: number
}

export class StatsRegistry {
  readonly #byNamespace = new Map<string, NamespaceCounters>()

  /** The live counters of a namespace, created at zero on first use. */
  counters(namespace: string): NamespaceCounters {
    let counters = this.#byNamespace.get(namespace)
    if (counters === undefined) {
      counters = { hits: 0, misses: 0, staleHits: 0, errors: 0 }
      this.#byNamespace.set(namespace, counters)
    }
    return counters
  }

  namespaces(): string[] {
    return [...this.#byNamespace.keys()]
  }

  snapshot(): Record<string, NamespaceStats> {
    const out: Record<string, NamespaceStats> = {}
    for (const [namespace, c] of this.#byNamespace) {
      const served = c.hits + c.staleHits
      const reads = served + c.misses
      out[namespace] = { hits: c.hits, misses: c.misses, staleHits: c.staleHits, errors: c.errors, hitRate: reads === 0 ? 0 : served / reads }
    }
    return out
  }

  reset(): void {
    for (const c of this.#byNamespace.values()) {
      c.hits = 0
      c.misses = 0
      c.staleHits = 0
      c.errors = 0
    }
  }
}

export interface SlowOperation {
  /** the CacheService operation, e.g. `get`, `set`, `invalidatePattern` */
  op: string
  /** the full key (or pattern) it touched */
  key: string
  durationMs: number
  /** epoch ms when it finished */
  at: number
}

/**
 * Remembers the last `capacity` operations slower than `thresholdMs`, and logs them at warn — at most one line per
 * second (with how many more were slow meanwhile): when Redis or the event loop stalls, every in-flight call is slow
 * at once, and a line per call would flood the log.
 */
export class SlowLog {
  readonly thresholdMs: number
  readonly #capacity: number
  readonly #ring: SlowOperation[] = []
  #next = 0
  readonly #logger: Logger
  #loggedAt = 0
  #suppressed = 0
  /** total slow operations seen */
  count = 0

  constructor(thresholdMs: number, logger: Logger, capacity = 100) {
    this.thresholdMs = thresholdMs
    this.#capacity = capacity
    this.#logger = logger
  }

  record(op: string, key: string, durationMs: number): void {
    const entry: SlowOperation = { op, key, durationMs: Math.round(durationMs * 1000) / 1000, at: Date.now() }
    if (this.#ring.length < this.#capacity) this.#ring.push(entry)
    else this.#ring[this.#next] = entry
    this.#next = (this.#next + 1) % this.#capacity
    this.count++
    if (entry.at - this.#loggedAt < 1000) {
      this.#suppressed++
      return
    }
    this.#loggedAt = entry.at
    const suppressed = this.#suppressed
    this.#suppressed = 0
    this.#logger.warn({ op, key, durationMs: entry.durationMs, thresholdMs: this.thresholdMs, alsoSlowSinceLastLine: suppressed }, 'slow cache operation')
  }

  /** Oldest first. */
  entries(): SlowOperation[] {
    if (this.#ring.length < this.#capacity) return [...this.#ring]
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)]
  }
}
