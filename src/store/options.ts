// The stores' options: one zod schema and one resolver per engine (src/config/options.ts builds them), so a bad
// option is a StoreOptionsError naming the field, and every time option is a Duration (`…Ms` names deprecated).
import type { MongoClient } from 'mongodb'
import type { Duration } from '../config/duration.ts'
import { boolean, duration, nonEmptyString, oneOf, opaque, optionsObject, parseOptions, renamed } from '../config/options.ts'
import { StoreOptionsError } from './errors.ts'

export interface SqliteTaskStoreOptions {
  /** database file; its directory is created; `:memory:` for a private in-memory database */
  path: string
  /** how long a write waits for another process's lock; then StoreUnavailableError. Default `5s` */
  busyTimeout?: Duration
  /** @deprecated the same as `busyTimeout`, in ms */
  busyTimeoutMs?: number
  /**
   * `PRAGMA synchronous`: `NORMAL` (default; with WAL a committed write survives a process crash, the last
   * commits may be lost on power loss) or `FULL` (fsync on every commit).
   */
  synchronous?: 'NORMAL' | 'FULL'
}

export interface MongoTaskStoreOptions {
  /** `mongodb://…` (or `mongodb+srv://…`); required unless `client` is given */
  url?: string
  /** an already-created client to use instead of `url`; the store then never closes it */
  client?: MongoClient
  /** database name (Skalds' DB_NAME); default `skalds` */
  dbName?: string
  /** collection name; default `tasks` (the only one Python reads) */
  collectionName?: string
  /** server selection and connect timeout; default `3s` (as Python) */
  connectTimeout?: Duration
  /** @deprecated the same as `connectTimeout`, in ms */
  connectTimeoutMs?: number
  /** create the indexes the queries need at connect (idempotent); default true */
  ensureIndexes?: boolean
  /**
   * Serialise this library's writers of one task through a lock collection (`<collectionName>_ts_locks`):
   * `auto` (default) does so only on servers without atomic per-document updates (FerretDB); `always`; `never`.
   */
  writeLocks?: 'auto' | 'always' | 'never'
  /** a write lock older than this is abandoned and taken over; default `10s` */
  writeLockTtl?: Duration
  /** @deprecated the same as `writeLockTtl`, in ms */
  writeLockTtlMs?: number
  /** how long a writer waits for a busy write lock, then StoreUnavailableError; default `10s` */
  writeLockWait?: Duration
  /** @deprecated the same as `writeLockWait`, in ms */
  writeLockWaitMs?: number
}

export interface ResolvedSqliteOptions {
  path: string
  busyTimeoutMs: number
  synchronous: 'NORMAL' | 'FULL'
}

export interface ResolvedMongoOptions {
  url: string | undefined
  client: MongoClient | undefined
  dbName: string
  collectionName: string
  connectTimeoutMs: number
  ensureIndexes: boolean
  writeLocks: 'auto' | 'always' | 'never'
  writeLockTtlMs: number
  writeLockWaitMs: number
}

const timeout = duration({ positive: true, whole: true })

const sqliteSchema = optionsObject({
  path: nonEmptyString(),
  busyTimeout: timeout.optional(),
  busyTimeoutMs: timeout.optional(),
  synchronous: oneOf(['NORMAL', 'FULL'] as const).optional(),
}).superRefine((o, ctx) => renamed(o, ctx, 'busyTimeout', 'busyTimeoutMs'))

const mongoSchema = optionsObject({
  url: nonEmptyString().optional(),
  client: opaque<MongoClient>().optional(),
  dbName: nonEmptyString().optional(),
  collectionName: nonEmptyString().optional(),
  connectTimeout: timeout.optional(),
  connectTimeoutMs: timeout.optional(),
  ensureIndexes: boolean().optional(),
  writeLocks: oneOf(['auto', 'always', 'never'] as const).optional(),
  writeLockTtl: timeout.optional(),
  writeLockTtlMs: timeout.optional(),
  writeLockWait: timeout.optional(),
  writeLockWaitMs: timeout.optional(),
}).superRefine((o, ctx) => {
  renamed(o, ctx, 'connectTimeout', 'connectTimeoutMs')
  renamed(o, ctx, 'writeLockTtl', 'writeLockTtlMs')
  renamed(o, ctx, 'writeLockWait', 'writeLockWaitMs')
  if (o.url === undefined && o.client === undefined) ctx.addIssue({ code: 'custom', message: 'is required (or pass a client)', path: ['url'] })
})

const toError = (message: string) => new StoreOptionsError(message)

/** SQLite options with their defaults; bad input throws StoreOptionsError naming the field. */
export function resolveSqliteOptions(input: SqliteTaskStoreOptions): ResolvedSqliteOptions {
  const o = parseOptions(sqliteSchema, input, toError, 'sqlite')
  return { path: o.path, busyTimeoutMs: o.busyTimeout ?? o.busyTimeoutMs ?? 5000, synchronous: o.synchronous ?? 'NORMAL' }
}

/** MongoDB options with their defaults; bad input throws StoreOptionsError naming the field. */
export function resolveMongoOptions(input: MongoTaskStoreOptions): ResolvedMongoOptions {
  const o = parseOptions(mongoSchema, input, toError, 'mongodb')
  return {
    url: o.url,
    client: o.client,
    dbName: o.dbName ?? 'skalds',
    collectionName: o.collectionName ?? 'tasks',
    connectTimeoutMs: o.connectTimeout ?? o.connectTimeoutMs ?? 3000,
    ensureIndexes: o.ensureIndexes ?? true,
    writeLocks: o.writeLocks ?? 'auto',
    writeLockTtlMs: o.writeLockTtl ?? o.writeLockTtlMs ?? 10_000,
    writeLockWaitMs: o.writeLockWait ?? o.writeLockWaitMs ?? 10_000,
  }
}
