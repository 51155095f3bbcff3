// The Skald state on Redis. A tick's ops go out as ONE round trip:
// - single server / Sentinel: one MULTI/EXEC (connection.transaction). MULTI rather than one big Lua script because
//   the per-field hash TTL must follow the server (native HPEXPIRE on Redis >= 7.4, the cache proxy's emulation on
//   older ones) and those ops already exist as scripts of their own; MULTI also makes the tick all-or-nothing for
//   readers. All running-task heartbeats go in one batched EVAL inside it (the terminal-code guard).
// - cluster: a transaction cannot span slots and the Python key names carry no hash tags, so ops are grouped by
//   slot (heartbeats of tasks sharing a slot stay one EVAL) and every group is sent in the same event-loop turn:
//   node-redis pipelines them per master, one round trip per master, in parallel. Atomic per key, not per tick.
import type { RedisArg, RedisConnection } from '../redis/connection.ts'
import { luaLoader, type LuaScript } from '../redis/lua.ts'
import { ScriptCaller } from '../redis/script-call.ts'
import { slotOf } from '../redis/slot.ts'
import { hashTtlStrategy, type HashTtlStrategy } from '../cache/proxy/hash-ttl.ts'
import { opCommand, type Op } from '../cache/proxy/op.ts'
import { ProxyOperations } from '../cache/proxy/operations.ts'
import { RedisProxy } from '../cache/proxy/redis-proxy.ts'
import { SkaldStateWriteError } from './errors.ts'
import type { ApplyResult, SkaldStateBackend, StateOp, StoredList, StoredValue } from './backend.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const BEAT = loadLua('task-beat-1.lua')
const APPEND = loadLua('list-append-1.lua')

export interface RedisSkaldStateOptions {
  /** 'auto' (default): native hash-field TTL where the server has it; 'emulated' forces the emulation (tests). */
  hashFieldTtl?: 'auto' | 'emulated'
}

/** One command of the round trip, and which `beat` or `touch` op (by index into the tick's ops) its reply answers. */
interface Command {
  routeKey: string
  command: RedisArg[] | { script: LuaScript; keys: string[]; args: string[] }
  beats?: number[]
  touch?: number
}

export class RedisSkaldStateBackend implements SkaldStateBackend {
  readonly kind = 'redis' as const
  readonly connection: RedisConnection
  readonly #force: 'emulated' | undefined
  readonly #ops: ProxyOperations
  readonly #proxy: RedisProxy
  readonly #scripts: ScriptCaller
  #strategy: HashTtlStrategy | undefined

  constructor(connection: RedisConnection, options: RedisSkaldStateOptions = {}) {
    this.connection = connection
    this.#force = options.hashFieldTtl === 'emulated' ? 'emulated' : undefined
    this.#ops = new ProxyOperations(connection, 64 * 1024 * 1024)
    // Reads go through the cache proxy so that the emulated path hides expired hash fields; it never writes, so it
    // never starts the emulation's sweeper (our ticks purge skalds:hash on every write).
    this.#proxy = new RedisProxy(connection, { hashFieldTtl: options.hashFieldTtl ?? 'auto', sweeper: false })
    this.#scripts = new ScriptCaller(connection)
  }

  async apply(ops: readonly StateOp[]): Promise<ApplyResult> {
    if (ops.length === 0) return { refusedBeats: [], missingTouches: [] }
    const strategy = (this.#strategy ??= await hashTtlStrategy(this.connection, this.#force))
    const commands = this.#commands(ops, strategy)
    try {
      if (!this.connection.isCluster) {
        const replies = await this.connection.transaction(commands.map((c) => opCommand(c as Op)), { key: commands[0]!.routeKey })
        return answers([{ group: commands, replies }])
      }
      const groups = new Map<number, Command[]>()
      for (const command of commands) {
        const slot = slotOf(command.routeKey)
        const group = groups.get(slot)
        if (group) group.push(command)
        else groups.set(slot, [command])
      }
      // Every send below starts before the first await: one pipelined round trip per master.
      const results = await Promise.all(
        [...groups.values()].map(async (group) => {
          if (group.length > 1) return { group, replies: await this.connection.transaction(group.map((c) => opCommand(c as Op)), { key: group[0]!.routeKey }) }
          const only = group[0]!
          const reply = Array.isArray(only.command)
            ? await this.connection.send(only.command, { key: only.routeKey })
            : await this.#scripts.call(only.command.script, only.command.keys, only.command.args)
          return { group, replies: [reply] }
        }),
      )
      return answers(results)
    } catch (error) {
      throw new SkaldStateWriteError(`skald state: a write of ${ops.length} ops failed: ${(error as Error).message}`, { cause: error })
    }
  }

  async getString(key: string): Promise<StoredValue | undefined> {
    const full = this.connection.key(key)
    const [value, ttl] = await Promise.all([
      this.connection.send<string | null>(['GET', full], { key: full }),
      this.connection.send<number>(['PTTL', full], { key: full }),
    ])
    if (value === null || value === undefined) return undefined
    return { value: String(value), ttlMs: Number(ttl) < 0 ? null : Number(ttl) }
  }

  async getHashField(key: string, field: string): Promise<StoredValue | undefined> {
    const [value, ttl] = await Promise.all([this.#proxy.getHashField(key, field), this.#proxy.hashFieldTtl(key, field)])
    if (value === undefined) return undefined
    return { value, ttlMs: ttl ?? null }
  }

  getHash(key: string): Promise<Record<string, string>> {
    return this.#proxy.getAllHash(key)
  }

  async getList(key: string): Promise<StoredList | undefined> {
    const full = this.connection.key(key)
    const [values, ttl] = await Promise.all([this.#proxy.getList(key), this.connection.send<number>(['PTTL', full], { key: full })])
    if (values.length === 0) return undefined
    return { values, ttlMs: Number(ttl) < 0 ? null : Number(ttl) }
  }

  close(): Promise<void> {
    return this.#proxy.close()
  }

  #commands(ops: readonly StateOp[], strategy: HashTtlStrategy): Command[] {
    const commands: Command[] = []
    // Heartbeats batch into one EVAL per slot (one slot on a single server), placed where the first one was, so
    // the order of writes to any one key is kept.
    const beatGroups = new Map<number, Command & { command: { script: LuaScript; keys: string[]; args: string[] } }>()
    const cluster = this.connection.isCluster
    ops.forEach((op, index) => {
      const key = this.connection.key(op.key)
      switch (op.op) {
        case 'hset':
          commands.push(strategy.set(key, [[op.field, op.value]], op.ttlMs))
          break
        case 'set':
          commands.push({ routeKey: key, command: op.ttlMs > 0 ? ['SET', key, op.value, 'PX', String(op.ttlMs)] : ['SET', key, op.value] })
          break
        case 'list':
          commands.push(this.#ops.overwriteList(op.key, op.values, { ttl: op.ttlMs })(strategy))
          break
        case 'append':
          commands.push({
            routeKey: key,
            command: { script: APPEND, keys: [key], args: [String(op.maxLength), String(op.ttlMs), ...op.values] },
          })
          break
        case 'del':
          commands.push({ routeKey: key, command: ['DEL', key] })
          break
        case 'touch':
          commands.push({ routeKey: key, command: ['PEXPIRE', key, String(op.ttlMs)], touch: index })
          break
        case 'beat': {
          const slot = cluster ? slotOf(key) : 0
          let group = beatGroups.get(slot)
          if (!group || group.command.args[0] !== String(op.ttlMs)) {
            group = { routeKey: key, command: { script: BEAT, keys: [], args: [String(op.ttlMs)] }, beats: [] }
            beatGroups.set(slot, group)
            commands.push(group)
          }
          group.command.keys.push(key)
          group.command.args.push(String(op.value))
          group.beats!.push(index)
          break
        }
      }
    })
    return commands
  }
}

/** The refused beats (the script's 0 flags) and missing touches (PEXPIRE's 0) of every group's replies. */
function answers(results: ReadonlyArray<{ group: readonly Command[]; replies: readonly unknown[] }>): ApplyResult {
  const refusedBeats: number[] = []
  const missingTouches: number[] = []
  for (const { group, replies } of results) {
    group.forEach((command, i) => {
      const reply = replies[i]
      if (command.touch !== undefined && Number(reply) === 0) missingTouches.push(command.touch)
      if (!command.beats) return
      const flags = Array.isArray(reply) ? reply : []
      command.beats.forEach((opIndex, j) => {
        if (Number(flags[j]) === 0) refusedBeats.push(opIndex)
      })
    })
  }
  return { refusedBeats, missingTouches }
}

export function createRedisSkaldStateBackend(connection: RedisConnection, options?: RedisSkaldStateOptions): RedisSkaldStateBackend {
  return new RedisSkaldStateBackend(connection, options)
}
