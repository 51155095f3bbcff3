// A throwaway redis-server owned by one test: spawned on a free port, without persistence, so the test can
// stall it (SIGSTOP), resume it (SIGCONT), kill it and start it again on the same port.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import { retry } from './wait.ts'

export function redisServerBin(): string {
  const bin = process.env.REDIS_SERVER_BIN
  if (!bin) throw new Error('REDIS_SERVER_BIN is not set: run the tests through `npm test` or export it (scripts/services.sh env)')
  return bin
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  server.close()
  await once(server, 'close')
  return port
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

export class RedisProcess {
  readonly port: number
  readonly args: string[]
  #child: ChildProcess | undefined

  private constructor(port: number, args: string[]) {
    this.port = port
    this.args = args
  }

  /** Starts `redis-server --port <port, default a free one> --save '' --appendonly no ...extraArgs`; waits until it answers. */
  static async start(extraArgs: string[] = [], port?: number): Promise<RedisProcess> {
    const server = new RedisProcess(port ?? (await freePort()), extraArgs)
    await server.restart()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  /** Starts the server again (after kill) on the same port, and waits until it answers. */
  async restart(): Promise<void> {
    if (this.#child) throw new Error('redis-server is running')
    const child = spawn(redisServerBin(), ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], {
      stdio: 'ignore',
    })
    this.#child = child
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined
    })
    // Any reply (PONG, or NOAUTH on a password-protected server) means it accepts connections.
    await retry(() => rawCommand(this.port, 'PING'), `redis-server on port ${this.port} to start`, 10_000, 50)
  }

  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  stall(): void {
    this.#child?.kill('SIGSTOP')
  }

  /** Resumes a stalled process (SIGCONT). */
  resume(): void {
    this.#child?.kill('SIGCONT')
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
