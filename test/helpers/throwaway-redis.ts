// A private redis-server on a free port, for tests that stop and start servers (quorum locks, outages).
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ThrowawayRedis {
  url: string
  port: number
  stop(): Promise<void>
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>
  /** SIGSTOP / SIGCONT: the server keeps its connections but stops answering. */
  pause(): void
  resume(): void
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net')
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start within ${timeoutMs} ms`)
    await sleep(25)
  }
}

export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const bin = process.env.REDIS_SERVER_BIN
  if (!bin) throw new Error('REDIS_SERVER_BIN is not set: run through `npm test` or eval "$(bash scripts/services.sh env)"')
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    await waitForPort(port, 10_000)
  }
  const stop = async (): Promise<void> => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null) return
    const exited = once(c, 'exit')
    c.kill('SIGCONT')
    c.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  }
}
