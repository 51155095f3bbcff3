// A pooled child rehearses one task before it says `ready`: a no-op worker run through the same runtime (protocol
// parse, module load, attachments schema, context, pino logger, progress, hooks, outcome) with every message
// dropped. The first run of that code in a fresh V8 compiles it, lazily, function by function; rehearsed while the
// child waits in the pool, a real task's start → main hook skips that work (measured on a warm child with a zod
// worker: see docs/workers.md "A warm child's start").
import { z } from 'zod'
import { defineWorker } from './definition.ts'
import type { ChildMessage, StartMessage } from './protocol.ts'
import { WorkerRuntime } from './worker-runtime.ts'

/** The rehearsal's worker: touches what a task's first moments do, and ends at once. */
export const RehearsalWorker = defineWorker({
  className: 'SkaldsRehearsal',
  attachments: z.object({ url: z.string(), frame: z.number().int() }),
  before: (ctx) => void ctx.attachments.url,
  main: async (ctx) => {
    ctx.logger.info({ frame: ctx.attachments.frame }, 'rehearsal')
    ctx.progress(50, 'rehearsal')
    await ctx.sleep(0)
  },
  release: () => {},
})

/** The longest a rehearsal may take; a child whose rehearsal hangs says ready anyway. */
const REHEARSAL_MAX_MS = 2000

/** Runs the rehearsal; never throws (a failed rehearsal only leaves the code cold). `observe` sees what it sent. */
export async function rehearse(observe?: (message: ChildMessage) => void): Promise<void> {
  const ended = Promise.withResolvers<void>()
  const runtime = new WorkerRuntime(
    {
      send: (message) => {
        observe?.(message)
        return Promise.resolve()
      },
      exit: () => ended.resolve(),
      writeStderr: () => {},
    },
    { isolation: 'process', cache: () => Promise.resolve(undefined) },
  )
  const start: StartMessage = {
    type: 'start',
    taskId: 'skalds-rehearsal',
    epoch: 0,
    worker: { module: import.meta.url, export: 'RehearsalWorker' },
    attachments: { url: 'rtsp://rehearsal', frame: 1 },
    settings: { aliveIntervalMs: 60_000, progressIntervalMs: 0, checkpointMaxBytes: 1024, logLevel: 'info', graceMs: 100 },
    cache: null,
  }
  const timer = setTimeout(() => ended.resolve(), REHEARSAL_MAX_MS)
  try {
    runtime.receive(start)
    await ended.promise
  } catch {
    // cold code is all a failed rehearsal costs
  } finally {
    clearTimeout(timer)
  }
}
