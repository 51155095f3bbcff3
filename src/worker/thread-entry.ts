// The worker thread of the `thread` host: boots (the worker API and the modules named in workerData), says
// `ready`, then runs the one task it is given and ends the thread.
import { parentPort, workerData } from 'node:worker_threads'
import { flushStdio } from './child-output.ts'
import { importSpecifier } from './module-loader.ts'
import { WorkerRuntime } from './worker-runtime.ts'

/** The longest an exiting thread waits for its stdout/stderr to reach the host. */
const STDIO_FLUSH_MS = 2000

if (!parentPort) throw new Error('skalds worker: thread-entry must be started by the thread host (worker_threads)')
const port = parentPort

const runtime = new WorkerRuntime(
  {
    send: (message) => {
      port.postMessage(message)
      return Promise.resolve()
    },
    // In a worker thread, process.exit ends the thread only.
    exit: (code) => void flushStdio(STDIO_FLUSH_MS).then(() => process.exit(code)),
    writeStderr: (text) => void process.stderr.write(text),
  },
  { isolation: 'thread' },
)

process.on('uncaughtException', (error) => runtime.crash(error))
process.on('unhandledRejection', (reason) => runtime.crash(reason))
port.on('message', (raw) => runtime.receive(raw))

// Worker modules import the worker API: load it while idle, so a warm start does not pay for it.
await import('./index.ts')
const { preload = [] } = (workerData ?? {}) as { preload?: string[] }
for (const module of preload) {
  try {
    await import(importSpecifier(module))
  } catch (error) {
    process.stderr.write(`skalds worker: preload of ${module} failed: ${(error as Error)?.message ?? String(error)}\n`)
  }
}
port.postMessage({ type: 'ready', pid: process.pid })
