// One forked worker process: boots to `ready`, then belongs to a task. While idle it does not keep the
// parent's event loop alive.
import { type ChildProcess, fork } from 'node:child_process'
import type { Socket } from 'node:net'
import { OutputWatch } from './child-output.ts'
import { type ChildSink, PoolSlot } from './pool-slot.ts'
import type { Pooled } from './warm-pool.ts'

export interface ForkSettings {
  entry: URL
  execArgv: string[]
  env: NodeJS.ProcessEnv
  /** modules the child imports before it says ready */
  preload: string[]
}

/**
 * After a child's exit, its `close` (stdio and IPC drained) is awaited while output keeps arriving; this much
 * silence ends the wait (a grandchild may hold the pipes open).
 */
const CLOSE_IDLE_MS = 50
/** How long stop() waits for an idle child to exit after SIGTERM before it SIGKILLs it. */
const STOP_KILL_MS = 1000

export class PooledChild implements Pooled {
  readonly process: ChildProcess
  readonly #slot = new PoolSlot('worker process')

  constructor(settings: ForkSettings) {
    this.process = fork(settings.entry, settings.preload, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: settings.execArgv,
      env: settings.env,
      serialization: 'json',
      // Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches the node only, which
      // decides what its tasks do, even while a child is still booting (before its own SIGINT handler exists).
      // The child still ends with the node: it exits when the IPC channel closes.
      detached: true,
    })
    const child = this.process
    const slot = this.#slot
    child.on('message', (raw) => slot.message(raw))
    const output = new OutputWatch()
    output.forward(child.stdout, (text) => slot.output('stdout', text))
    output.forward(child.stderr, (text) => slot.output('stderr', text))
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    child.on('error', (error) => {
      slot.failed(error)
      // A failed spawn never exits: end it here.
      if (child.pid === undefined) slot.end(null, null)
    })
    child.once('exit', (code, signal) => {
      void output.settle(closed, CLOSE_IDLE_MS).then(() => slot.end(code, signal))
    })
  }

  get ready(): Promise<void> {
    return this.#slot.ready
  }

  get ended(): boolean {
    return this.#slot.ended
  }

  get pid(): number | null {
    return this.process.pid ?? null
  }

  /** The child now belongs to a task: everything it sends, prints and its end go to `sink`. */
  connect(sink: ChildSink): void {
    this.#slot.connect(sink)
    this.#setRef(true)
  }

  idle(onEnd: () => void): void {
    this.#slot.idle(onEnd)
    this.#setRef(false)
  }

  /** Sends a message if the channel is open (a dying child's channel may already be closed). */
  send(message: unknown): void {
    if (!this.process.connected) return
    this.process.send(message as object, (error) => {
      if (error) this.#slot.failed(error)
    })
  }

  /** Sends a signal; false when the child is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.#slot.ended) return false
    try {
      return this.process.kill(signal)
    } catch {
      return false
    }
  }

  /** Ends an idle or booting child: SIGTERM, SIGKILL if it has not exited a second later. */
  async stop(): Promise<void> {
    const child = this.process
    if (this.#slot.ended || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.signal('SIGTERM')
    const timer = setTimeout(() => this.signal('SIGKILL'), STOP_KILL_MS)
    await exited
    clearTimeout(timer)
  }

  #setRef(ref: boolean): void {
    const child = this.process
    const handles: Array<{ ref(): unknown; unref(): unknown } | null | undefined> = [
      child,
      child.channel,
      child.stdout as Socket | null,
      child.stderr as Socket | null,
    ]
    for (const handle of handles) {
      if (!handle) continue
      if (ref) handle.ref()
      else handle.unref()
    }
  }
}
