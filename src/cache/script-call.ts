// Lua calls for hot paths (locks, rate limits): EVALSHA with a NOSCRIPT fallback, under a coarse shared deadline.
//
// Why not the connection's per-command timeout: node-redis arms an AbortSignal.timeout (a timer plus listeners) per
// command, which halves throughput on a busy path, and it only covers the wait to be written, not the reply.
// Here one interval timer per caller sweeps the calls in flight; a call that has not answered within `timeoutMs`
// (± one tick) rejects with RedisTimeoutError, whatever stage it is stuck in.
import type { RedisConnection } from './connection.ts'
import { RedisTimeoutError } from './errors.ts'
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
    return this.#withDeadline(sent, script.name)
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
      entry.reject(new RedisTimeoutError(`redis lua ${entry.what}: no reply within ${this.#timeoutMs} ms`))
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}
