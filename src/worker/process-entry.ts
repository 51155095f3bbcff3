// The child process of the `process` host: boots (preloading the modules named on its command line), says
// `ready`, then runs the one task it is given. Output on stdout/stderr goes to the task's log on the host.
import { importSpecifier } from './module-loader.ts'
import { flushStdio } from './child-output.ts'
import { forgetHostCompileCache } from './compile-cache.ts'
import { WorkerRuntime } from './worker-runtime.ts'
import { rehearse } from './rehearsal.ts'

/** The longest an exiting child waits for its stdout/stderr to drain into the parent. */
const STDIO_FLUSH_MS = 2000

// The host may have turned Node's compile cache on through our env: the worker sees the env it was given.
forgetHostCompileCache()

if (!process.send) {
  process.stderr.write('skalds worker: process-entry must be started by the process host (child_process.fork)\n')
  process.exit(2)
}

const runtime = new WorkerRuntime(
  {
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        if (!process.connected) return reject(new Error('IPC channel closed'))
        process.send!(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()))
      }),
    exit: (code) => void flushStdio(STDIO_FLUSH_MS).then(() => process.exit(code)),
    writeStderr: (text) => void process.stderr.write(text),
  },
  { isolation: 'process' },
)

// Once the parent is gone its pipes are broken: a failed write must not become an uncaught exception (which
// would be written to the same broken pipe, and so on).
process.stdout.on('error', () => {})
process.stderr.on('error', () => {})
process.on('uncaughtException', (error) => runtime.crash(error))
process.on('unhandledRejection', (reason) => runtime.crash(reason))
process.on('SIGTERM', () => runtime.terminate('shutdown'))
// Ctrl-C reaches the whole process group; the node decides what its tasks do, so the child ignores it.
process.on('SIGINT', () => {})
process.on('disconnect', () => runtime.disconnected())
process.on('message', (raw) => runtime.receive(raw))

// Worker modules import the worker API: load it while idle, so a warm start does not pay for it.
await import('./index.ts')
for (const module of process.argv.slice(2)) {
  try {
    await import(importSpecifier(module))
  } catch (error) {
    process.stderr.write(`skalds worker: preload of ${module} failed: ${(error as Error)?.message ?? String(error)}\n`)
  }
}
// The start path's code, compiled before the first task needs it (src/worker/rehearsal.ts).
await rehearse()
process.send({ type: 'ready', pid: process.pid })
