// The Skald state in this process's memory, for the embedded engines: the same keys, values and TTLs as on Redis,
// read back through the same SkaldStateReader. Expired entries vanish on read, as in Redis.
import { SkaldStateArgumentError } from './errors.ts'
import {
  type ApplyResult,
  type SkaldStateBackend,
  type StateOp,
  type StoredList,
  type StoredValue,
  TERMINAL_HEARTBEATS,
} from './backend.ts'

interface Timed {
  expiresAt: number // 0 = never
}
type Entry =
  | (Timed & { type: 'string'; value: string })
  | (Timed & { type: 'list'; values: string[] })
  | (Timed & { type: 'hash'; fields: Map<string, { value: string; expiresAt: number }> })

export interface MemoryStateOptions {
  /** The clock, epoch ms. Default Date.now (tests move time). */
  now?: () => number
}

export class MemorySkaldStateBackend implements SkaldStateBackend {
  readonly kind = 'memory' as const
  readonly #entries = new Map<string, Entry>()
  readonly #now: () => number

  constructor(options: MemoryStateOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  apply(ops: readonly StateOp[]): Promise<ApplyResult> {
    const refusedBeats: number[] = []
    const missingTouches: number[] = []
    const now = this.#now()
    ops.forEach((op, index) => {
      const expiresAt = 'ttlMs' in op && op.ttlMs > 0 ? now + op.ttlMs : 0
      switch (op.op) {
        case 'hset': {
          let entry = this.#live(op.key, now)
          if (entry && entry.type !== 'hash') throw wrongType(op.key)
          if (!entry) this.#entries.set(op.key, (entry = { type: 'hash', fields: new Map(), expiresAt: 0 }))
          entry.fields.set(op.field, { value: op.value, expiresAt })
          break
        }
        case 'set':
          this.#entries.set(op.key, { type: 'string', value: op.value, expiresAt })
          break
        case 'list':
          if (op.values.length === 0) this.#entries.delete(op.key)
          else this.#entries.set(op.key, { type: 'list', values: [...op.values], expiresAt })
          break
        case 'append': {
          const entry = this.#live(op.key, now)
          if (entry && entry.type !== 'list') throw wrongType(op.key)
          const values = [...(entry?.values ?? []), ...op.values].slice(-op.maxLength)
          this.#entries.set(op.key, { type: 'list', values, expiresAt })
          break
        }
        case 'del':
          this.#entries.delete(op.key)
          break
        case 'touch': {
          const entry = this.#live(op.key, now)
          if (entry) entry.expiresAt = expiresAt
          else missingTouches.push(index)
          break
        }
        case 'beat': {
          const entry = this.#live(op.key, now)
          if (entry && entry.type !== 'string') throw wrongType(op.key)
          const current = entry?.value
          if (current !== undefined && TERMINAL_HEARTBEATS.has(current)) {
            refusedBeats.push(index)
            break
          }
          const value = String(op.value) === current ? String((op.value + 1) % 200) : String(op.value)
          this.#entries.set(op.key, { type: 'string', value, expiresAt })
          break
        }
      }
    })
    return Promise.resolve({ refusedBeats, missingTouches })
  }

  getString(key: string): Promise<StoredValue | undefined> {
    const now = this.#now()
    const entry = this.#live(key, now)
    if (!entry) return Promise.resolve(undefined)
    if (entry.type !== 'string') return Promise.reject(wrongType(key))
    return Promise.resolve({ value: entry.value, ttlMs: ttlOf(entry.expiresAt, now) })
  }

  getHashField(key: string, field: string): Promise<StoredValue | undefined> {
    const now = this.#now()
    const entry = this.#live(key, now)
    if (!entry) return Promise.resolve(undefined)
    if (entry.type !== 'hash') return Promise.reject(wrongType(key))
    const item = entry.fields.get(field)
    if (!item || (item.expiresAt > 0 && item.expiresAt <= now)) return Promise.resolve(undefined)
    return Promise.resolve({ value: item.value, ttlMs: ttlOf(item.expiresAt, now) })
  }

  getHash(key: string): Promise<Record<string, string>> {
    const now = this.#now()
    const entry = this.#live(key, now)
    if (!entry) return Promise.resolve({})
    if (entry.type !== 'hash') return Promise.reject(wrongType(key))
    const out: Array<[string, string]> = []
    for (const [field, item] of entry.fields) if (item.expiresAt === 0 || item.expiresAt > now) out.push([field, item.value])
    return Promise.resolve(Object.fromEntries(out))
  }

  getList(key: string): Promise<StoredList | undefined> {
    const now = this.#now()
    const entry = this.#live(key, now)
    if (!entry) return Promise.resolve(undefined)
    if (entry.type !== 'list') return Promise.reject(wrongType(key))
    return Promise.resolve({ values: [...entry.values], ttlMs: ttlOf(entry.expiresAt, now) })
  }

  /** Every live key (tests, the in-process controller's listing). */
  keys(): string[] {
    const now = this.#now()
    return [...this.#entries.keys()].filter((key) => this.#live(key, now) !== undefined)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt > 0 && entry.expiresAt <= now) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }
}

function ttlOf(expiresAt: number, now: number): number | null {
  return expiresAt === 0 ? null : expiresAt - now
}

function wrongType(key: string): SkaldStateArgumentError {
  return new SkaldStateArgumentError(key, 'holds a value of another type (WRONGTYPE)')
}

export function createMemorySkaldStateBackend(options?: MemoryStateOptions): MemorySkaldStateBackend {
  return new MemorySkaldStateBackend(options)
}
