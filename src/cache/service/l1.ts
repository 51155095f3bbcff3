// The in-process first tier of the two-tier mode: a small synchronous LRU with a per-entry expiry and a tag index,
// so invalidation by key, pattern or tag can evict local copies without asking Redis.
//
// Values are held as the deserialized objects callers get back: treat cached values as immutable.

export interface L1Entry {
  value: unknown
  /** epoch ms after which the entry is dropped */
  expiresAt: number
  /** full tag keys this entry is recorded under, for tag eviction */
  tags: readonly string[] | undefined
}

export interface L1Options {
  /** Most entries kept; the least recently used is evicted past it. */
  maxEntries: number
  /** Longest an entry lives in L1, in ms, whatever its own TTL. */
  maxTtlMs: number
}

export class L1Cache {
  readonly maxEntries: number
  readonly maxTtlMs: number
  /**
   * Bumped by every eviction. A read of L2 that started before an eviction must not fill L1 with what it read:
   * the value may be the one the eviction was about (a write in another process raced the read).
   */
  epoch = 0
  readonly #entries = new Map<string, L1Entry>()
  readonly #tagIndex = new Map<string, Set<string>>()

  constructor(options: L1Options) {
    this.maxEntries = options.maxEntries
    this.maxTtlMs = options.maxTtlMs
  }

  get size(): number {
    return this.#entries.size
  }

  /** A live entry, refreshed as most recently used; undefined on a miss or when expired. */
  get(key: string): L1Entry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.#drop(key, entry)
      return undefined
    }
    // Move to the back of the insertion order: the Map's first key is then the least recently used.
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry
  }

  /** Stores a value for `ttlMs` (capped at maxTtlMs). */
  set(key: string, value: unknown, ttlMs: number, tags: readonly string[] | undefined): void {
    const lifetime = ttlMs < this.maxTtlMs ? ttlMs : this.maxTtlMs
    if (!(lifetime > 0)) {
      this.delete(key)
      return
    }
    const previous = this.#entries.get(key)
    if (previous !== undefined) this.#drop(key, previous)
    this.#entries.set(key, { value, expiresAt: Date.now() + lifetime, tags })
    if (tags !== undefined) {
      for (const tag of tags) {
        let keys = this.#tagIndex.get(tag)
        if (keys === undefined) this.#tagIndex.set(tag, (keys = new Set()))
        keys.add(key)
      }
    }
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#drop(oldest, this.#entries.get(oldest)!)
    }
  }

  delete(key: string): boolean {
    this.epoch++
    const entry = this.#entries.get(key)
    if (entry === undefined) return false
    this.#drop(key, entry)
    return true
  }

  /** Evicts every key the (anchored) expression matches; returns how many. */
  deleteMatching(pattern: RegExp): number {
    this.epoch++
    let count = 0
    for (const [key, entry] of this.#entries) {
      if (pattern.test(key)) {
        this.#drop(key, entry)
        count++
      }
    }
    return count
  }

  /** Evicts every entry recorded under one of the full tag keys; returns how many. */
  deleteTags(tagKeys: readonly string[]): number {
    this.epoch++
    let count = 0
    for (const tag of tagKeys) {
      const keys = this.#tagIndex.get(tag)
      if (keys === undefined) continue
      for (const key of [...keys]) {
        const entry = this.#entries.get(key)
        if (entry !== undefined) {
          this.#drop(key, entry)
          count++
        }
      }
      this.#tagIndex.delete(tag)
    }
    return count
  }

  clear(): void {
    this.epoch++
    this.#entries.clear()
    this.#tagIndex.clear()
  }

  #drop(key: string, entry: L1Entry): void {
    this.#entries.delete(key)
    if (entry.tags === undefined) return
    for (const tag of entry.tags) {
      const keys = this.#tagIndex.get(tag)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.#tagIndex.delete(tag)
    }
  }
}
