// The replay ring of one stream: the newest events, bounded by count, bytes and age, for clients resuming with
// Last-Event-ID. Sequence numbers only grow, so `after(seq)` is a binary search; evicting from the front is O(1)
// amortised: a start index, and the array is compacted once the evicted part is both over 1024 entries and over
// half of it (instead of an O(n) Array#shift per event), so at most that many evicted frames stay referenced.

/** One published event as every client of the stream receives it. */
export interface ReplayEntry {
  seq: number
  /** when it was published, epoch ms */
  at: number
  /** the whole SSE frame, `id:` and `data:` lines included */
  frame: string
  /** UTF-8 length of `frame` */
  bytes: number
  /** the Skald it concerns: the Skald (skalds stream) or the task's executor (tasks stream) */
  skaldId: string | null
  taskId: string | null
}

export class ReplayRing {
  readonly #maxEvents: number
  readonly #maxAgeMs: number
  readonly #maxBytes: number
  #bytes = 0
  #entries: ReplayEntry[] = []
  #start = 0
  /** the highest sequence number evicted so far: a client that saw less than this may have missed events */
  #evictedSeq = 0

  constructor(maxEvents: number, maxAgeMs: number, maxBytes: number) {
    this.#maxEvents = maxEvents
    this.#maxAgeMs = maxAgeMs
    this.#maxBytes = maxBytes
  }

  get size(): number {
    return this.#entries.length - this.#start
  }

  /** bytes of the frames held */
  get bytes(): number {
    return this.#bytes
  }

  get evictedSeq(): number {
    return this.#evictedSeq
  }

  push(entry: ReplayEntry): void {
    if (this.#maxEvents === 0) {
      this.#evictedSeq = entry.seq
      return
    }
    this.#entries.push(entry)
    this.#bytes += entry.bytes
    while (this.size > this.#maxEvents || this.#bytes > this.#maxBytes) this.#evictOne()
    this.expire(entry.at)
  }

  /** Drops the entries older than the age bound. */
  expire(now: number): void {
    const oldest = now - this.#maxAgeMs
    while (this.size > 0 && this.#entries[this.#start]!.at < oldest) this.#evictOne()
  }

  /** The entries with a sequence number above `seq`, oldest first. */
  after(seq: number): ReplayEntry[] {
    let lo = this.#start
    let hi = this.#entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#entries[mid]!.seq <= seq) lo = mid + 1
      else hi = mid
    }
    return this.#entries.slice(lo)
  }

  #evictOne(): void {
    const entry = this.#entries[this.#start]!
    this.#evictedSeq = entry.seq
    this.#bytes -= entry.bytes
    this.#start++
    if (this.#start >= 1024 && this.#start * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#start)
      this.#start = 0
    }
  }
}
