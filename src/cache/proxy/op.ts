// One proxy operation as data: a single Redis command (plain or a Lua script) plus the decoding of its reply.
// The same Op runs alone (EVALSHA with a NOSCRIPT fallback) or inside a batch's MULTI (EVAL with the source, so a
// flushed script cache can never fail half a transaction).
import type { RedisArg, RedisConnection, Reply } from '../../redis/connection.ts'
import type { LuaScript } from '../../redis/lua.ts'

export interface Op<T = unknown> {
  /** The (prefixed) key that routes the command on a cluster; every key of the op shares its slot. */
  routeKey: string
  /** A plain command, or a Lua script with its keys and arguments. */
  command: RedisArg[] | { script: LuaScript; keys: string[]; args: string[] }
  decode(reply: Reply): T
}

/** Runs one op on its own. */
export async function runOp<T>(connection: RedisConnection, op: Op<T>): Promise<T> {
  const command = op.command
  const reply = Array.isArray(command)
    ? await connection.send(command, { key: op.routeKey })
    : await connection.evalScript(command.script, command.keys, command.args, { key: op.routeKey })
  return op.decode(reply)
}

/** The op as one command for a MULTI block. */
export function opCommand(op: Op): RedisArg[] {
  const command = op.command
  if (Array.isArray(command)) return command
  return ['EVAL', command.script.source, String(command.keys.length), ...command.keys, ...command.args]
}

/** A bulk-string reply as text (node-redis gives strings, or Buffers with a Buffer type mapping). */
export function text(reply: Reply): string {
  if (typeof reply === 'string') return reply
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  if (typeof reply === 'number' || typeof reply === 'bigint' || typeof reply === 'boolean') return String(reply)
  return JSON.stringify(reply) ?? ''
}

export const decodeString = (reply: Reply): string | undefined => (reply === null || reply === undefined ? undefined : text(reply))
export const decodeNumber = (reply: Reply): number => Number(reply)
export const decodeVoid = (): void => undefined

/** A flat HGETALL reply (or a RESP3 map) as a plain record. */
export function decodeRecord(reply: Reply): Record<string, string> {
  // fromEntries defines own properties, so a field named `__proto__` stays a field.
  const entries: Array<[string, string]> = []
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) entries.push([text(reply[i]), text(reply[i + 1])])
  } else if (reply instanceof Map) {
    for (const [field, value] of reply) entries.push([text(field), text(value)])
  } else if (reply && typeof reply === 'object') {
    for (const [field, value] of Object.entries(reply)) entries.push([field, text(value)])
  }
  return Object.fromEntries(entries)
}

export function decodeList(reply: Reply): string[] {
  return Array.isArray(reply) ? reply.map(text) : []
}
