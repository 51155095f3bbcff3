// The in-process session store: the embedded default. Same semantics as the Redis store, hashed ids included.
import type { Duration } from '../../config/duration.ts'
import { duration, optionsObject, parseOptions, renamed } from '../../config/options.ts'
import {
  checkUserId,
  DEFAULT_SESSION_TTL_MS,
  encodeData,
  hashSessionId,
  invalid,
  sessionTtl,
  isWellFormedSessionId,
  newSessionId,
  sessionTtlMs,
  type CreateSessionOptions,
  type Session,
  type SessionStore,
  type SessionStoreOptions,
} from './store.ts'

export interface MemorySessionStoreOptions extends SessionStoreOptions {
  /** How often expired sessions are swept (reads also drop them). Default `'1m'`. */
  sweepInterval?: Duration
  /** @deprecated use `sweepInterval` (same value, in ms). */
  sweepIntervalMs?: number
}

const memorySchema = optionsObject({
  ttl: sessionTtl.optional(),
  sweepInterval: duration({ positive: true }).optional(),
  sweepIntervalMs: duration({ positive: true }).optional(),
}).superRefine((o, ctx) => renamed(o, ctx, 'sweepInterval', 'sweepIntervalMs'))

/** Validates MemorySessionStore options; bad input throws InvalidArgumentError (`MemorySessionStore: field: reason`). */
export function resolveMemorySessionStoreOptions(options: MemorySessionStoreOptions | undefined): { ttlMs: number; sweepIntervalMs: number } {
  const o = parseOptions(memorySchema, options ?? {}, invalid, 'MemorySessionStore')
  return { ttlMs: o.ttl ?? DEFAULT_SESSION_TTL_MS, sweepIntervalMs: o.sweepInterval ?? o.sweepIntervalMs ?? 60_000 }
}

interface Entry {
  userId: string
  /** JSON, so callers never share objects with the store */
  data: string
  createdAt: number
  lastActivityAt: number
  ttlMs: number
  expiresAt: number
}

export class MemorySessionStore<D = unknown> implements SessionStore<D> {
  readonly kind = 'memory' as const
  readonly ttlMs: number
  readonly #sessions = new Map<string, Entry>()
  readonly #users = new Map<string, Set<string>>()
  #timer: NodeJS.Timeout | undefined

  constructor(options: MemorySessionStoreOptions = {}) {
    const o = resolveMemorySessionStoreOptions(options)
    this.ttlMs = o.ttlMs
    this.#timer = setInterval(() => this.#sweep(), o.sweepIntervalMs)
    this.#timer.unref()
  }

  create(userId: string, data: D, options: CreateSessionOptions = {}): Promise<Session<D>> {
    return settle(() => {
      checkUserId(userId)
      const json = encodeData(data)
      const ttlMs = sessionTtlMs(options.ttl, this.ttlMs, 'ttl')
      const id = newSessionId()
      const hash = hashSessionId(id)
      const now = Date.now()
      const entry: Entry = { userId, data: json, createdAt: now, lastActivityAt: now, ttlMs, expiresAt: now + ttlMs }
      this.#sessions.set(hash, entry)
      let set = this.#users.get(userId)
      if (!set) this.#users.set(userId, (set = new Set()))
      set.add(hash)
      return toSession<D>(id, entry)
    })
  }

  get(id: string): Promise<Session<D> | undefined> {
    return settle(() => {
      const found = this.#live(id)
      if (!found) return undefined
      const [, entry] = found
      this.#renew(entry)
      return toSession<D>(id, entry)
    })
  }

  update(id: string, data: D): Promise<Session<D> | undefined> {
    return settle(() => {
      const json = encodeData(data)
      const found = this.#live(id)
      if (!found) return undefined
      const [, entry] = found
      entry.data = json
      this.#renew(entry)
      return toSession<D>(id, entry)
    })
  }

  destroy(id: string): Promise<boolean> {
    return settle(() => {
      const found = this.#live(id)
      if (!found) return false
      this.#remove(found[0], found[1])
      return true
    })
  }

  destroyUser(userId: string): Promise<number> {
    return settle(() => {
      checkUserId(userId)
      let count = 0
      for (const hash of this.#users.get(userId) ?? []) {
        const entry = this.#sessions.get(hash)
        if (entry && entry.expiresAt > Date.now()) count++
        this.#sessions.delete(hash)
      }
      this.#users.delete(userId)
      return count
    })
  }

  close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    return Promise.resolve()
  }

  #live(id: string): [string, Entry] | undefined {
    if (!isWellFormedSessionId(id)) return undefined
    const hash = hashSessionId(id)
    const entry = this.#sessions.get(hash)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.#remove(hash, entry)
      return undefined
    }
    return [hash, entry]
  }

  #renew(entry: Entry): void {
    entry.lastActivityAt = Date.now()
    entry.expiresAt = entry.lastActivityAt + entry.ttlMs
  }

  #remove(hash: string, entry: Entry): void {
    this.#sessions.delete(hash)
    const set = this.#users.get(entry.userId)
    set?.delete(hash)
    if (set?.size === 0) this.#users.delete(entry.userId)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [hash, entry] of this.#sessions) if (entry.expiresAt <= now) this.#remove(hash, entry)
  }
}

function toSession<D>(id: string, entry: Entry): Session<D> {
  return {
    id,
    userId: entry.userId,
    data: JSON.parse(entry.data) as D,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
    ttlMs: entry.ttlMs,
  }
}

function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()))
}
