// A throwaway redis-server owned by one test: spawned on a free port, without persistence, so the test can
// stall it (SIGSTOP), resume it (SIGCONT), kill it and start it again on the same port.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { onFreePort, PortInUseError } from './ports.ts'
import { retry } from './wait.ts'

/** The Redis 8 `redis-server` (native hash-field TTL). */
export function redisServerBin(): string {
  return binFrom('REDIS_SERVER_BIN')
}

/** The Redis 6.2–7.2 `redis-server` (the emulated hash-field TTL path). */
export function redisLegacyServerBin(): string {
  return binFrom('REDIS_LEGACY_SERVER_BIN')
}

function binFrom(variable: string): string {
  const bin = process.env[variable]
  if (!bin) throw new Error(`${variable} is not set: run the tests through \`npm test\` or export it (scripts/services.sh env)`)
  return bin
}

/** Sends one inline command over a fresh socket and returns the first line of the reply (e.g. `+PONG`, `$1`). */
export function rawCommand(port: number, line: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no reply'))
    }, timeoutMs)
    let data = ''
    socket.on('connect', () => socket.write(`${line}\r\n`))
    socket.on('data', (chunk) => {
      data += chunk.toString()
      if (data.includes('\r\n')) {
        clearTimeout(timer)
        socket.destroy()
        resolve(data.split('\r\n')[0]!)
      }
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** Sends one inline command whose reply is a bulk string (e.g. `CLUSTER INFO`) and returns that string. */
export function rawBulk(port: number, line: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no reply'))
    }, timeoutMs)
    let data = ''
    const settle = (error: Error | undefined, value?: string): void => {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(value!)
    }
    socket.on('connect', () => socket.write(`${line}\r\n`))
    socket.on('data', (chunk) => {
      data += chunk.toString()
      const end = data.indexOf('\r\n')
      if (end < 0) return
      if (data[0] !== '$') return settle(new Error(`not a bulk reply: ${data.slice(0, end)}`))
      const length = Number(data.slice(1, end))
      if (Buffer.byteLength(data) - end - 2 >= length) settle(undefined, data.slice(end + 2, end + 2 + length))
    })
    socket.on('error', (error) => settle(error))
  })
}

/**
 * Spawns a redis-server (or sentinel) and resolves once its own log says it is ready (`ready`), so a foreign server
 * that holds the port is never mistaken for it. Rejects with PortInUseError when it could not bind.
 */
export function spawnRedisServer(bin: string, args: readonly string[], port: number, ready: RegExp = /Ready to accept connections/, timeoutMs = 15_000): Promise<ChildProcess> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const append = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-8192)
  }
  child.stdout.on('data', append)
  child.stderr.on('data', append)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      child.kill('SIGKILL')
      reject(new Error(`redis-server on port ${port} did not get ready within ${timeoutMs} ms:\n${log}`))
    }, timeoutMs)
    const onData = (): void => {
      if (!ready.test(log)) return
      cleanup()
      resolve(child)
    }
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup()
      if (/Address already in use/.test(log)) reject(new PortInUseError(port, `redis-server exited: ${log.trim().split('\n').pop()}`))
      else reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${log}`))
    }
    const cleanup = (): void => {
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
    }
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

export class RedisProcess {
  readonly port: number
  readonly args: string[]
  readonly bin: string
  #child: ChildProcess | undefined

  private constructor(port: number, args: string[], bin: string) {
    this.port = port
    this.args = args
    this.bin = bin
  }

  /**
   * Starts `redis-server --port <port> --save '' --appendonly no ...extraArgs` (later arguments win) and waits until
   * it is ready. Without `port`, on a free one, and on another one if it could not bind. `bin` defaults to Redis 8.
   */
  static async start(extraArgs: string[] = [], port?: number, bin = redisServerBin()): Promise<RedisProcess> {
    const startOn = async (chosen: number): Promise<RedisProcess> => {
      const server = new RedisProcess(chosen, extraArgs, bin)
      await server.#spawn()
      return server
    }
    return port === undefined ? onFreePort(startOn) : startOn(port)
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  /** Starts the server again (after kill or stop) on the same port, and waits until it is ready. */
  async restart(): Promise<void> {
    if (this.#child) throw new Error('redis-server is running')
    // The clients know this port: wait for it rather than move (a closing socket may still hold it briefly).
    await retry(() => this.#spawn(), `redis-server to bind port ${this.port} again`, 10_000, 200)
  }

  async #spawn(): Promise<void> {
    const child = await spawnRedisServer(this.bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], this.port)
    this.#child = child
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined
    })
  }

  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  stall(): void {
    this.#child?.kill('SIGSTOP')
  }

  /** Resumes a stalled process (SIGCONT). */
  resume(): void {
    this.#child?.kill('SIGCONT')
  }

  /** Shuts the server down cleanly (SIGTERM, as SHUTDOWN; SIGKILL after `timeoutMs`) and waits for it to exit. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const child = this.#child
    if (!child) return
    const exited = once(child, 'exit')
    child.kill('SIGCONT')
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(killer)
    this.#child = undefined
  }

  /** Kills the process (SIGKILL after SIGCONT) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child
    if (!child) return
    const exited = once(child, 'exit')
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await exited
    this.#child = undefined
  }
}
