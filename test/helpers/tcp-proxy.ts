// A TCP proxy a test puts between one client and its server, to cut that client off alone: `blackhole()` keeps the
// connections open but drops every byte both ways (a network partition: no error, only silence and timeouts),
// `restore()` closes those connections and forwards new ones again.
import { createServer, type Server, type Socket, connect } from 'node:net'
import { onFreePort, PortInUseError } from './ports.ts'

export class TcpProxy {
  readonly port: number
  #server: Server
  #sockets = new Set<Socket>()
  #dropping = false

  private constructor(server: Server, port: number) {
    this.#server = server
    this.port = port
  }

  /** Listens on a free port of 127.0.0.1 and forwards each connection to `targetHost:targetPort`. */
  static start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    return onFreePort(
      (port) =>
        new Promise<TcpProxy>((resolve, reject) => {
          const server = createServer()
          const proxy = new TcpProxy(server, port)
          server.on('connection', (client) => proxy.#pipe(client, targetHost, targetPort))
          server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, error.message) : error))
          server.listen(port, '127.0.0.1', () => resolve(proxy))
        }),
    )
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  #pipe(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host)
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from)
      from.on('data', (chunk) => {
        if (!this.#dropping) to.write(chunk)
      })
      from.on('error', () => to.destroy())
      from.on('close', () => {
        this.#sockets.delete(from)
        to.destroy()
      })
    }
  }

  /** Drops every byte both ways from now on; connections stay open. */
  blackhole(): void {
    this.#dropping = true
  }

  /**
   * Forwards again. The connections open during the blackhole are closed (bytes were lost mid-stream), so clients
   * reconnect through a clean one.
   */
  restore(): void {
    for (const socket of this.#sockets) socket.destroy()
    this.#dropping = false
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
