// The seed's MyWorker, ported: logs its RTSP URL and frame ten times, a second apart, and takes new
// attachments while it runs. Run it: npm run example:worker (it starts the worker in a child process from the
// warm pool, sends an update after 3.5 s, and prints the task's log).
import { z } from 'zod'
import { defineWorker } from '../src/worker/index.ts'
import { ProcessHost } from '../src/worker/hosts.ts'

// Python's MyDataModel has fields rtsp_url / fix_frame with aliases rtspUrl / fixFrame and populate_by_name:
// either spelling is accepted (Python nodes send field names on taskworker.update, Mongo stores the aliases).
const MyDataModel = z.preprocess(
  (v) => {
    if (typeof v !== 'object' || v === null) return v
    const o = v as Record<string, unknown>
    return { rtspUrl: o.rtspUrl ?? o.rtsp_url, fixFrame: o.fixFrame ?? o.fix_frame }
  },
  z.object({ rtspUrl: z.string(), fixFrame: z.number().int() }),
)

export const MyWorker = defineWorker({
  className: 'MyWorker',
  attachments: MyDataModel,
  // Python's initialize() copied the attachments onto self; ctx.attachments is always current instead.
  before: (ctx) => ctx.logger.info(`Starting MyWorker with RTSP URL: ${ctx.attachments.rtspUrl}`),
  main: async (ctx) => {
    for (let i = 0; i < 10; i++) {
      ctx.logger.info(`RTSP URL: ${ctx.attachments.rtspUrl}, Fix Frame: ${ctx.attachments.fixFrame}`)
      ctx.progress((i + 1) * 10)
      await ctx.sleep(1000) // wakes at once when the task is cancelled or paused
    }
  },
  // Runs between main's awaits; ctx.attachments switches to `next` when it returns.
  update: (ctx, next) => ctx.logger.info(`Updating MyWorker with RTSP URL: ${next.rtspUrl}, Fix Frame: ${next.fixFrame}`),
})

export default MyWorker

if (import.meta.main) {
  const host = new ProcessHost({ poolSize: 1 })
  const run = host.start({
    worker: { module: import.meta.url, export: 'MyWorker' },
    taskId: 'my-worker-demo',
    attachments: { rtspUrl: 'rtsp://192.168.1.1/camera1', fixFrame: 10 },
    onEvent: (event) => {
      if (event.type === 'log' && event.source === 'logger') console.log(`[task] ${(JSON.parse(event.line) as { msg: string }).msg}`)
      else if (event.type === 'started') console.log(`[host] started ${event.className} in pid ${event.pid}`)
      else if (event.type === 'update-accepted' || event.type === 'update-rejected') console.log(`[host] ${event.type}`)
    },
  })
  setTimeout(() => void run.update({ rtsp_url: 'rtsp://192.168.1.2/camera2', fix_frame: 20 }), 3500)
  const outcome = await run.done
  console.log(`[host] ${outcome.status} after ${outcome.durationMs} ms`)
  await host.close()
}
