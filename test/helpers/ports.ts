// Ports for the throwaway servers tests start. A port found free now can be taken before the server binds it
// (another test's server, an outgoing connection), so picks come from below the kernel's ephemeral range, where
// nothing is handed out at random, and a server that fails to bind is started again on another port.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** A server could not bind its port because something else holds it: start it again on another one. */
export class PortInUseError extends Error {
  readonly port: number
  constructor(port: number, detail: string) {
    super(`port ${port} is in use: ${detail}`)
    this.name = 'PortInUseError'
    this.port = port
  }
}

// Kernel picks (listen(0), outgoing connections) come from [low, high]; ours stay below `low`.
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low) && low > 12_000) return low
  } catch {
    // not Linux: assume the IANA range
  }
  return 49_152
}
const PICK_FROM = 10_000
const PICK_BELOW = ephemeralLow() - 2 // room for a pair (port, port + 1)

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A port nobody listens on right now, from outside the ephemeral range. `count` consecutive ports when > 1. */
export async function freePort(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (PICK_BELOW - PICK_FROM - count))
    let free = true
    for (let i = 0; i < count && free; i++) free = await canBind(port + i)
    if (free) return port
  }
  throw new Error(`no ${count} free consecutive port(s) in ${PICK_FROM}..${PICK_BELOW}`)
}

/**
 * Starts a server on a free port (`count` consecutive ones), and again on other ports while `start` rejects with
 * PortInUseError (someone took the port between the pick and the bind).
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, count = 1, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort(count))
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= attempts) throw error
    }
  }
}
