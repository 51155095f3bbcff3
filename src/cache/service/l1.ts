// The in-process first tier of the two-tier mode: a small synchronous cache with a per-entry expiry, a size bound
// with CLOCK eviction (an approximation of LRU: a hit only sets a flag, so reads cost one Map lookup), and a tag
// index, so invalidation by key, pattern or tag can evict local copies without asking Redis.
//
// Entries live in one Map per namespace ("space"), keyed by the caller's key: a hit never builds the full key.
// Values are held as the deserialized objects callers get back: treat cached values as immutable.

// Reading the clock costs more than the Map lookup of a hit, so hits read a cached clock: it is refreshed at most
// once per millisecond (a one-shot unref'd timer clears it, as lru-cache's ttlResolution does), and costs nothing idle.
let cachedNow = 0
function resetClock(): void {
  cachedNow = 0
}
function clock(): number {
  if (cachedNow !== 0) return cachedNow
  cachedNow = Date.now()
  setTimeout(resetClock, 1).unref()
  return cachedNow
}

export interface L1Entry {
  value: unknown
  /** epoch ms after which the entry is dropped */
  expiresAt: number
  /** full tag keys this entry is recorded under, for tag eviction */
  tags: readonly string[] | undefined
  /** read since the eviction hand last passed (CLOCK) */
  used: boolean
  readonly key: string
  readonly space: L1Space
}

export interface L1Options {
  /** Most entries kept (all namespaces together); CLOCK eviction past it. */
  maxEntries: number
  /** Longest an entry lives in L1, in ms, whatever its own TTL. */
  maxTtlMs: number
}

/** The entries of one namespace, keyed by the caller's key. */
export class L1Space {
  /** `${globalPrefix}${namespace}:` */
  readonly base: string
  readonly entries = new Map<string, L1Entry>()
  readonly #owner: L1Cache

  constructor(owner: L1Cache, base: string) {
    this.#owner = owner
    this.base = base
  }

  /** A live entry (flagged as used); undefined on a miss or when expired. */
  get(key: string): L1Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= clock()) {
      this.#owner.drop(entry)
      return undefined
    }
    entry.used = true
    return entry
  }

  /** Stores a value for `ttlMs` (capped at maxTtlMs); other namespaces' copies of the same stored key are evicted. */
  set(key: string, value: unknown, ttlMs: number, tags: readonly string[] | undefined): void {
    this.#owner.store(this, key, value, ttlMs, tags, true)
  }

  /** Like set, for a value just read from L2 (it invalidates nothing: reads in flight stay clean). */
  fill(key: string, value: unknown, ttlMs: number, tags: readonly string[] | undefined): void {
    this.#owner.store(this, key, value, ttlMs, tags, false)
  }

  delete(key: string): boolean {
    this.#owner.touched(this.base, key)
    const entry = this.entries.get(key)
    if (entry === undefined) return false
    this.#owner.drop(entry)
    return true
  }
}

export class L1Cache {
  readonly maxEntries: number
  readonly maxTtlMs: number
  /**
   * L2 reads in flight (full key → count) and the ones an eviction or write hit meanwhile. A read that was hit must
   * not fill L1 with what it read: the value may be the one the eviction was about (a write raced the read).
   */
  readonly #reading = new Map<string, number>()
  readonly #dirty = new Set<string>()
  #size = 0
  readonly #spaces = new Map<string, L1Space>()
  readonly #tagIndex = new Map<string, Set<L1Entry>>()
  /** the CLOCK ring: entries in insertion order from #hand on; stale items (dropped entries) are skipped */
  #ring: Array<L1Entry | undefined> = []
  #hand = 0

  constructor(options: L1Options) {
    this.maxEntries = options.maxEntries
    this.maxTtlMs = options.maxTtlMs
  }

  get size(): number {
    return this.#size
  }

  /** The space of a namespace (one per base, shared by every CacheService of that namespace). */
  space(base: string): L1Space {
    let space = this.#spaces.get(base)
    if (space === undefined) this.#spaces.set(base, (space = new L1Space(this, base)))
    return space
  }

  /** Evicts a full key from every space it can live in (a key of `a` may be a key of its child `a:b` too). */
  delete(fullKey: string): boolean {
    if (this.#reading.size !== 0 && this.#reading.has(fullKey)) this.#dirty.add(fullKey)
    let found = false
    for (const space of this.#spaces.values()) {
      if (!fullKey.startsWith(space.base)) continue
      const entry = space.entries.get(fullKey.slice(space.base.length))
      if (entry !== undefined) {
        this.drop(entry)
        found = true
      }
    }
    return found
  }

  /** Evicts every full key the (anchored) expression matches; returns how many. */
  deleteMatching(pattern: RegExp): number {
    for (const key of this.#reading.keys()) if (pattern.test(key)) this.#dirty.add(key)
    let count = 0
    for (const space of this.#spaces.values()) {
      for (const entry of [...space.entries.values()]) {
        if (pattern.test(space.base + entry.key)) {
          this.drop(entry)
          count++
        }
      }
    }
    return count
  }

  /** Evicts every entry recorded under one of the full tag keys; returns how many. */
  deleteTags(tagKeys: readonly string[]): number {
    // The tags of values being read are unknown until they arrive: every read in flight is suspect.
    for (const key of this.#reading.keys()) this.#dirty.add(key)
    let count = 0
    for (const tag of tagKeys) {
      const entries = this.#tagIndex.get(tag)
      if (entries === undefined) continue
      for (const entry of [...entries]) {
        if (entry.space.entries.get(entry.key) === entry) {
          this.drop(entry)
          count++
        }
      }
      this.#tagIndex.delete(tag)
    }
    return count
  }

  clear(): void {
    for (const key of this.#reading.keys()) this.#dirty.add(key)
    for (const space of this.#spaces.values()) space.entries.clear()
    this.#tagIndex.clear()
    this.#ring = []
    this.#hand = 0
    this.#size = 0
  }

  /** @internal see L1Space.set */
  store(space: L1Space, key: string, value: unknown, ttlMs: number, tags: readonly string[] | undefined, write: boolean): void {
    if (write) this.touched(space.base, key)
    const previous = space.entries.get(key)
    if (previous !== undefined) this.drop(previous)
    if (this.#spaces.size > 1) this.#dropAliases(space, space.base + key)
    const lifetime = ttlMs < this.maxTtlMs ? ttlMs : this.maxTtlMs
    if (!(lifetime > 0)) return
    // A fresh clock here: the cached one may lag a busy event loop, and an expiry computed from it would end the L1
    // copy before the L2 entry it mirrors (a read in between would then re-fill L1 for up to maxTtl).
    const entry: L1Entry = { value, expiresAt: Date.now() + lifetime, tags, used: false, key, space }
    space.entries.set(key, entry)
    this.#size++
    this.#ring.push(entry)
    if (tags !== undefined) {
      for (const tag of tags) {
        let entries = this.#tagIndex.get(tag)
        if (entries === undefined) this.#tagIndex.set(tag, (entries = new Set()))
        entries.add(entry)
      }
    }
    while (this.#size > this.maxEntries) this.#evictOne()
    if (this.#ring.length - this.#hand > 2 * this.maxEntries + 64) this.#compact()
  }

  /** Registers an L2 read of a full key about to start. Pair with `endRead`. */
  beginRead(fullKey: string): void {
    this.#reading.set(fullKey, (this.#reading.get(fullKey) ?? 0) + 1)
  }

  /** Ends an L2 read; true when no eviction or write touched the key meanwhile (its value may fill L1). */
  endRead(fullKey: string): boolean {
    const count = this.#reading.get(fullKey) ?? 1
    const clean = this.#dirty.size === 0 || !this.#dirty.has(fullKey)
    if (count <= 1) {
      this.#reading.delete(fullKey)
      this.#dirty.delete(fullKey)
    } else {
      this.#reading.set(fullKey, count - 1)
    }
    return clean
  }

  /** @internal a write or eviction of `base + key`: reads of it in flight must not fill L1 */
  touched(base: string, key: string): void {
    if (this.#reading.size === 0) return
    const fullKey = base + key
    if (this.#reading.has(fullKey)) this.#dirty.add(fullKey)
  }

  /** @internal removes a live entry */
  drop(entry: L1Entry): void {
    if (entry.space.entries.get(entry.key) !== entry) return
    entry.space.entries.delete(entry.key)
    this.#size--
    if (entry.tags === undefined) return
    for (const tag of entry.tags) {
      const entries = this.#tagIndex.get(tag)
      if (entries === undefined) continue
      entries.delete(entry)
      if (entries.size === 0) this.#tagIndex.delete(tag)
    }
  }

  #dropAliases(except: L1Space, fullKey: string): void {
    for (const space of this.#spaces.values()) {
      if (space === except || !fullKey.startsWith(space.base)) continue
      const entry = space.entries.get(fullKey.slice(space.base.length))
      if (entry !== undefined) this.drop(entry)
    }
  }

  /** CLOCK: the hand passes over used entries (clearing the flag, giving them another round) and evicts the first unused one. */
  #evictOne(): void {
    for (;;) {
      if (this.#hand >= this.#ring.length) {
        this.#compact()
        if (this.#ring.length === 0) return // nothing live to evict (cannot happen while #size is right)
      }
      const entry = this.#ring[this.#hand]
      this.#ring[this.#hand++] = undefined
      if (entry === undefined || entry.space.entries.get(entry.key) !== entry) continue
      if (entry.used) {
        entry.used = false
        this.#ring.push(entry)
        continue
      }
      this.drop(entry)
      return
    }
  }

  /** Rebuilds the ring from live entries (drops the slots of evicted, replaced and deleted ones). */
  #compact(): void {
    const live: L1Entry[] = []
    for (let i = this.#hand; i < this.#ring.length; i++) {
      const entry = this.#ring[i]
      if (entry !== undefined && entry.space.entries.get(entry.key) === entry) live.push(entry)
    }
    this.#ring = live
    this.#hand = 0
  }
}
