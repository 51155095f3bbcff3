// The L2 store seam of CacheService: a small key/value interface with TTLs, implemented by the in-process
// memory backend (embedded default) and the Redis backend. Every implementation runs one contract suite.
//
// Keys given to a backend are complete (global prefix + namespace + key); values are already serialized.

export interface BackendEntry {
  key: string
  value: string
  /** time to live in milliseconds; undefined = no expiry */
  ttlMs?: number
}

export type BackendListener = (message: string) => void

export interface CacheBackend {
  /** `memory` or `redis` */
  readonly kind: 'memory' | 'redis'

  get(key: string): Promise<string | undefined>
  /** One round trip (grouped by slot on a cluster); results in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>
  set(key: string, value: string, ttlMs?: number): Promise<void>
  /** One round trip (grouped by slot on a cluster). */
  setMany(entries: readonly BackendEntry[]): Promise<void>
  /** Sets only when the key is absent; true when this call set it. Used for locks. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>
  /** Deletes keys (UNLINK on Redis); returns how many existed. */
  delete(keys: readonly string[]): Promise<number>
  /** Deletes `key` only while it still holds `expected` (atomic compare-and-delete); true when deleted. */
  deleteIfEquals(key: string, expected: string): Promise<boolean>
  exists(key: string): Promise<boolean>
  /** Remaining time to live in ms: `null` when the key has no expiry, `undefined` when it does not exist. */
  ttl(key: string): Promise<number | null | undefined>
  /** Sets a key's TTL; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>
  /**
   * Adds `by` to an integer counter, creating it at 0. When this call creates the key and `ttlMs` is given,
   * the counter gets that TTL (atomic: a counter never lives forever by accident). Returns the new value.
   */
  increment(key: string, by: number, ttlMs?: number): Promise<number>
  /** Deletes every key matching a glob pattern (SCAN + UNLINK on every master on Redis). Returns the count. */
  deleteMatching(pattern: string): Promise<number>
  /** Counts keys matching a glob pattern (SCAN on Redis). */
  countMatching(pattern: string): Promise<number>
  /** Records `key` under each tag set, so `invalidateTags` can find it; tag sets live at least `ttlMs`. */
  addToTags(tagKeys: readonly string[], key: string, ttlMs?: number): Promise<void>
  /** Deletes every key recorded under the tag sets, and the sets. Returns how many keys were deleted. */
  invalidateTags(tagKeys: readonly string[]): Promise<number>
  publish(channel: string, message: string): Promise<void>
  /** Subscribes to a channel; resolves with an unsubscribe function. */
  subscribe(channel: string, listener: BackendListener): Promise<() => Promise<void>>
  /** Round-trip latency in ms; throws when the store is unreachable. */
  ping(): Promise<number>
  /** Memory in use (bytes) and key count, where the store can tell. */
  info(): Promise<{ usedMemoryBytes?: number; keys?: number }>
  close(): Promise<void>
}
