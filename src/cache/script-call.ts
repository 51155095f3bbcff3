// Lua calls for hot paths (locks, rate limits): EVALSHA with a NOSCRIPT fallback, under a coarse shared deadline.
//
// Why not the connection's per-command timeout: node-redis arms an AbortSignal.timeout (a timer plus listeners) per
// command, which halves throughput on a busy path, and it only covers the wait to be written, not the reply.
// Here one interval timer per caller sweeps the calls in flight; a call that has not answered within `timeoutMs`
// (± one tick) rejects with RedisTimeoutError, whatever stage it is stuck in.
import type { RedisConnection } from './connection.ts'
import { RedisTimeoutError } from './errors.ts'
import { slotOf } from './slot.ts'
import type { LuaScript } from './lua/index.ts'

interface Pending {
  deadline: number
  reject: (error: Error) => void
  what: string
}

export interface ScriptCallerOptions {
  /** Time a call may take, reply included, in ms. Default the connection's `commandTimeoutMs`. */
  timeoutMs?: number
  /** Granularity of the deadline sweep in ms. Default a quarter of `timeoutMs`, between 5 and 250. */
  tickMs?: number
}

export class ScriptCaller {
  readonly connection: RedisConnection
  #timeoutMs: number
  #tickMs: number
  #pending = new Set<Pending>()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(connection: RedisConnection, options: ScriptCallerOptions = {}) {
    this.connection = connection
    this.#timeoutMs = options.timeoutMs ?? connection.options.commandTimeoutMs
    this.#tickMs = options.tickMs ?? Math.min(250, Math.max(5, Math.floor(this.#timeoutMs / 4)))
  }

  /** Runs `script` with `keys` (all in one slot on a cluster) and `args`. */
  call<T>(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    const command: string[] = ['EVALSHA', script.sha, String(keys.length)]
    for (const key of keys) command.push(key)
    for (const arg of args) command.push(typeof arg === 'string' ? arg : String(arg))
    const key = keys[0]
    const sent = this.connection.send<T>(command, { key, timeoutMs: 0 }).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error
      command[0] = 'EVAL'
      command[1] = script.source
      return this.connection.send<T>(command, { key, timeoutMs: 0 })
    })
    return this.#withDeadline(sent, `lua ${script.name}`)
  }

  /** Sends a plain command under the same deadline (reply included). */
  command<T>(args: string[], key?: string): Promise<T> {
    return this.#withDeadline(this.connection.send<T>(args, { key, timeoutMs: 0 }), args[0] ?? 'command')
  }

  #withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + this.#timeoutMs, reject, what }
      this.#pending.add(entry)
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), this.#tickMs)
        this.#timer.unref()
      }
      promise.then(
        (value) => {
          this.#pending.delete(entry)
          resolve(value)
        },
        (error: unknown) => {
          this.#pending.delete(entry)
          reject(error instanceof Error ? error : new Error(String(error)))
        },
      )
    })
  }

  #sweep(): void {
    const now = performance.now()
    for (const entry of this.#pending) {
      if (entry.deadline > now) continue
      this.#pending.delete(entry)
      entry.reject(new RedisTimeoutError(`redis ${entry.what}: no reply within ${this.#timeoutMs} ms`))
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
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
}

/**
 * Coalesces calls of one entry-wise Lua script made in the same event-loop turn into one EVALSHA (per cluster
 * slot): many concurrent lock acquisitions or rate-limit checks cost Redis one script invocation instead of one
 * each. Each entry is still handled atomically and in arrival order. A call made while none of this script's calls
 * is in flight goes out at once (no added latency when calls are sequential); calls made while some are in flight
 * queue and go out together after the current turn's callbacks (setImmediate, no timer).
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
    this.#options = { maxEntries: 32, ...options }
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
    } else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.#flush())
    }
    return result
  }

  #flush(): void {
    this.#scheduled = false
    const queues = [...this.#queues.values()]
    this.#queues.clear()
    for (const queue of queues) this.#send(queue)
  }

  #send(queue: BatchQueue): void {
    const per = this.#options.repliesPerEntry
    this.#inFlight++
    this.#caller.call<unknown[]>(this.#script, queue.keys, queue.args).then(
      (reply) => {
        this.#inFlight--
        queue.waiters.forEach((waiter, i) => waiter.resolve(reply.slice(i * per, i * per + per)))
      },
      (error: unknown) => {
        this.#inFlight--
        const err = error instanceof Error ? error : new Error(String(error))
        for (const waiter of queue.waiters) waiter.reject(err)
      },
    )
  }
}
