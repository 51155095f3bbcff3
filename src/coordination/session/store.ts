// The session store interface, and what every implementation shares: ids, their hashes, input checks.
//
// A session id is 256 random bits (base64url, 43 characters). Stores keep only its SHA-256, so a dump of the
// store (or of Redis) holds no id that could be replayed as a cookie or bearer token.
import { createHash, randomBytes } from 'node:crypto'
import { toMs, type Duration } from '../../config/duration.ts'
import { durationThat } from '../../config/options.ts'
import { InvalidArgumentError } from '../../redis/errors.ts'

export interface Session<D = unknown> {
  /** The session id: give it to the client (cookie or bearer token). Stores never keep it in clear. */
  id: string
  userId: string
  data: D
  /** epoch ms */
  createdAt: number
  /** epoch ms of the last get / update (sliding renewal) */
  lastActivityAt: number
  /** epoch ms when the session expires unless used again */
  expiresAt: number
  /** the session's time to live in ms, renewed on every use */
  ttlMs: number
}

export interface CreateSessionOptions {
  /** This session's time to live (renewed on every get / update). Default: the store's `ttl`. */
  ttl?: Duration
}

export interface SessionStore<D = unknown> {
  readonly kind: 'memory' | 'redis'
  /** Creates a session for `userId` holding `data` (JSON-serializable). */
  create(userId: string, data: D, options?: CreateSessionOptions): Promise<Session<D>>
  /** The session, renewed for another TTL (sliding expiry); undefined when unknown, expired or malformed. */
  get(id: string): Promise<Session<D> | undefined>
  /** Replaces the session's data and renews it; undefined when the session does not exist. */
  update(id: string, data: D): Promise<Session<D> | undefined>
  /** Ends one session; true when it existed. */
  destroy(id: string): Promise<boolean>
  /** Ends every session of a user (log out everywhere); returns how many existed. */
  destroyUser(userId: string): Promise<number>
  close(): Promise<void>
}

export interface SessionStoreOptions {
  /** Default time to live of a session, renewed on every get / update. Default `'24h'` (seed 003: 86400 s). */
  ttl?: Duration
}

export const DEFAULT_SESSION_TTL_MS = 86_400_000

/** A session TTL: at least 1 ms. */
export const sessionTtl = durationThat((ms) => ms >= 1, 'must be at least 1 ms')

export const invalid = (message: string) => new InvalidArgumentError(message)

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** A new session id: 32 bytes from the CSPRNG, base64url. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url')
}

/** Whether a string can be a session id at all (cheap filter before any store lookup). */
export function isWellFormedSessionId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

/** What stores key a session by: the SHA-256 of its id, hex. */
export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex')
}

export function checkUserId(userId: string): void {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidArgumentError(`userId: must be a non-empty string, got ${JSON.stringify(userId)}`)
  }
}

export function sessionTtlMs(value: Duration | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback
  const ms = toMs(value, field)
  if (ms < 1) throw new InvalidArgumentError(`${field}: must be at least 1 ms, got ${JSON.stringify(value)}`)
  return ms
}

// Per-call TTLs (create) are checked by hand: a hot path.
/** The data as JSON; rejects what JSON cannot carry. */
export function encodeData(data: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (error) {
    throw new InvalidArgumentError(`data: not JSON-serializable (${(error as Error).message})`, { cause: error })
  }
  if (json === undefined) throw new InvalidArgumentError(`data: ${typeof data} is not JSON-serializable`)
  return json
}
