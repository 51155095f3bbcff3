// Lua calls for hot paths (locks, rate limits): EVALSHA with a NOSCRIPT fallback, built without intermediate
// arrays, and BatchedScript, which coalesces concurrent calls of one script into one EVALSHA.
// Every call goes through RedisConnection.send, whose timeout covers the reply.
import type { RedisConnection } from './connection.ts'
import type { LuaScript } from './lua.ts'
import { slotOf } from './slot.ts'

export interface ScriptCallerOptions {
  /** Time a call may take, reply included, in ms. Default the connection's `commandTimeout`. */
  timeoutMs?: number
}

export class ScriptCaller {
  readonly connection: RedisConnection
  #timeoutMs: number | undefined

  constructor(connection: RedisConnection, options: ScriptCallerOptions = {}) {
    this.connection = connection
    this.#timeoutMs = options.timeoutMs
  }

  /** Runs `script` with `keys` (all in one slot on a cluster) and `args`. */
  call<T>(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    const command: string[] = ['EVALSHA', script.sha, String(keys.length)]
    for (const key of keys) command.push(key)
    for (const arg of args) command.push(typeof arg === 'string' ? arg : String(arg))
    const options = { key: keys[0], timeoutMs: this.#timeoutMs }
    return this.connection.send<T>(command, options).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error
      command[0] = 'EVAL'
      command[1] = script.source
      return this.connection.send<T>(command, options)
    })
  }

  /** Sends a plain command with the same timeout. */
  command<T>(args: string[], key?: string): Promise<T> {
    return this.connection.send<T>(args, { key, timeoutMs: this.#timeoutMs })
  }
}

// Batches of every script flush in one setImmediate, so node-redis writes them to the socket together.
const toFlush = new Set<BatchedScript>()
let flushScheduled = false
function scheduleFlush(batched: BatchedScript): void {
  toFlush.add(batched)
  if (flushScheduled) return
  flushScheduled = true
  setImmediate(() => {
    flushScheduled = false
    const scripts = [...toFlush]
    toFlush.clear()
    for (const script of scripts) script.flush()
  })
}

interface BatchQueue {
  keys: string[]
  args: Array<string | number>
  waiters: Array<{ resolve: (value: unknown[]) => void; reject: (error: Error) => void }>
}

export interface BatchedScriptOptions {
  /** Keys of one entry (the script takes `n` entries' keys back to back). */
  keysPerEntry: number
  /** ARGV items of one entry. */
  argsPerEntry: number
  /** Reply items of one entry (the script returns a flat array). */
  repliesPerEntry: number
  /** Most entries in one call. Default `32`. */
  maxEntries?: number
  /**
   * Most calls of this script in flight before new entries wait for one to answer (and then go out together).
   * Default `4`: under load, calls grow larger instead of more numerous.
   */
  maxInFlight?: number
}

/**
 * Coalesces calls of one entry-wise Lua script made in the same event-loop turn into one EVALSHA (per cluster
 * slot): many concurrent lock acquisitions or rate-limit checks cost Redis one script invocation instead of one
 * each. Each entry is still handled atomically and in arrival order. A call made while none of this script's calls
 * is in flight goes out at once (no added latency when calls are sequential); calls made while some are in flight
 * queue and go out together after the current turn's callbacks (setImmediate, no timer), or, when `maxInFlight`
 * calls are already out, as soon as one of them answers.
 */
export class BatchedScript {
  #caller: ScriptCaller
  #script: LuaScript
  #options: Required<BatchedScriptOptions>
  #queues = new Map<number | string, BatchQueue>()
  #scheduled = false
  #inFlight = 0

  constructor(caller: ScriptCaller, script: LuaScript, options: BatchedScriptOptions) {
    this.#caller = caller
    this.#script = script
    this.#options = { maxEntries: 32, maxInFlight: 4, ...options }
  }

  /** Queues one entry; resolves with its slice of the reply. Keys of one entry must share a slot. */
  run(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown[]> {
    if (keys.length !== this.#options.keysPerEntry || args.length !== this.#options.argsPerEntry) {
      throw new TypeError(`lua ${this.#script.name}: an entry takes ${this.#options.keysPerEntry} keys and ${this.#options.argsPerEntry} args`)
    }
    if (this.#inFlight === 0 && !this.#scheduled) {
      const queue: BatchQueue = { keys: [...keys], args: [...args], waiters: [] }
      const result = new Promise<unknown[]>((resolve, reject) => queue.waiters.push({ resolve, reject }))
      this.#send(queue)
      return result
    }
    const group = this.#caller.connection.isCluster ? slotOf(keys[0]!) : 0
    let queue = this.#queues.get(group)
    if (!queue) {
      queue = { keys: [], args: [], waiters: [] }
      this.#queues.set(group, queue)
    }
    for (const key of keys) queue.keys.push(key)
    for (const arg of args) queue.args.push(arg)
    const result = new Promise<unknown[]>((resolve, reject) => queue.waiters.push({ resolve, reject }))
    if (queue.waiters.length >= this.#options.maxEntries) {
      this.#queues.delete(group)
      this.#send(queue)
    } else if (!this.#scheduled && this.#inFlight < this.#options.maxInFlight) {
      this.#scheduled = true
      scheduleFlush(this)
    }
    return result
  }

  /** Sends what is queued (called by the shared flush). */
  flush(): void {
    this.#scheduled = false
    const queues = [...this.#queues.values()]
    this.#queues.clear()
    for (const queue of queues) this.#send(queue)
  }

  #settled(): void {
    this.#inFlight--
    if (!this.#scheduled && this.#queues.size > 0) {
      this.#scheduled = true
      scheduleFlush(this)
    }
  }

  #send(queue: BatchQueue): void {
    const per = this.#options.repliesPerEntry
    this.#inFlight++
    this.#caller.call<unknown[]>(this.#script, queue.keys, queue.args).then(
      (reply) => {
        this.#settled()
        queue.waiters.forEach((waiter, i) => waiter.resolve(reply.slice(i * per, i * per + per)))
      },
      (error: unknown) => {
        this.#settled()
        const err = error instanceof Error ? error : new Error(String(error))
        for (const waiter of queue.waiters) waiter.reject(err)
      },
    )
  }
}
