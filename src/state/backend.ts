// The seam between the Skald's state publisher and where the state lives: Redis (single, legacy, cluster) or this
// process's memory. A publisher turns a tick into a list of StateOps; a backend applies the whole list in one
// round trip. Every backend runs test/contracts/skald-state-contract.ts.

/** One write. Keys are the wire names, without the connection's keyPrefix (the backend adds it). */
export type StateOp =
  /** HSET one field with a per-field TTL (native HPEXPIRE, or the emulation on Redis < 7.4). */
  | { op: 'hset'; key: string; field: string; value: string; ttlMs: number }
  /** SET, with PX when ttlMs > 0. */
  | { op: 'set'; key: string; value: string; ttlMs: number }
  /** Replace a list's content and set its TTL atomically (readers see the old list or the new one). */
  | { op: 'list'; key: string; values: string[]; ttlMs: number }
  /** RPUSH, keep the newest `maxLength` (LTRIM), PEXPIRE: one bounded log. */
  | { op: 'append'; key: string; values: string[]; maxLength: number; ttlMs: number }
  | { op: 'del'; key: string }
  /**
   * PEXPIRE: keeps a key that is written once (not every tick) alive, and tells whether it still exists, so the
   * writer can write it again after an expiry or a delete (Python's cleanup of `skalds:{id}:*`).
   */
  | { op: 'touch'; key: string; ttlMs: number }
  /**
   * A running task heartbeat, guarded: refused when the key holds a terminal code (200 / -1 / -2), and bumped by one
   * (mod 200) when it equals the value stored, so every accepted write changes the value.
   */
  | { op: 'beat'; key: string; value: number; ttlMs: number }

export interface ApplyResult {
  /** Indexes (into the ops given) of `beat` ops refused because a terminal code was there. */
  refusedBeats: number[]
  /** Indexes of `touch` ops whose key did not exist: nothing was written for them. */
  missingTouches: number[]
}

/** A value with its remaining TTL: ms, or null when the key or field has none. */
export interface StoredValue {
  value: string
  ttlMs: number | null
}

export interface StoredList {
  values: string[]
  ttlMs: number | null
}

export interface SkaldStateBackend {
  readonly kind: 'memory' | 'redis'
  /** Applies every op, in order, in one round trip. Rejects with SkaldStateWriteError when it could not. */
  apply(ops: readonly StateOp[]): Promise<ApplyResult>
  getString(key: string): Promise<StoredValue | undefined>
  getHashField(key: string, field: string): Promise<StoredValue | undefined>
  /** Every live field of a hash; `{}` for an absent key. */
  getHash(key: string): Promise<Record<string, string>>
  getList(key: string): Promise<StoredList | undefined>
  /** Releases what the backend opened itself (never a connection it was given). */
  close(): Promise<void>
}

/** Terminal values of `task:{id}:heartbeat` as the strings stored (wire §4.5). */
export const TERMINAL_HEARTBEATS: ReadonlySet<string> = new Set(['200', '-1', '-2'])
