// MySimpleWorker of the Python update example, ported: logs its RTSP URL and frame once a second for 5 minutes, and
// takes new attachments while it runs (update-task-script.ts sends them).
// Run it on its own (no Skald, no servers): node examples/update_task_worker_with_skald_node/my-simple-worker.ts
import { z } from 'zod'
import { defineWorker } from '../../src/worker/index.ts'
import { runWorkerOnce } from '../example-support.ts'

/**
 * Python's MySimpleDataModel: fields `rtsp_url` / `fix_frame` with the aliases `rtspUrl` / `fixFrame` and
 * `populate_by_name`, so either spelling is accepted (Python nodes send the field names, the task scripts and
 * MongoDB the aliases); when both are given, the alias wins, as in pydantic. The output uses the aliases.
 */
export const MySimpleDataModel = z.preprocess(
  (v) => {
    if (typeof v !== 'object' || v === null) return v
    const o = v as Record<string, unknown>
    return { rtspUrl: o.rtspUrl ?? o.rtsp_url, fixFrame: o.fixFrame ?? o.fix_frame }
  },
  z.object({ rtspUrl: z.string(), fixFrame: z.number().int() }),
)
export type MySimpleData = z.output<typeof MySimpleDataModel>

export const MySimpleWorker = defineWorker({
  className: 'MySimpleWorker',
  attachments: MySimpleDataModel,
  before: (ctx) => ctx.logger.info(`Starting MyWorker with RTSP URL: ${ctx.attachments.rtspUrl}`),
  main: async (ctx) => {
    for (let i = 0; i < 300; i++) {
      ctx.logger.info('Running main logic for MyWorker')
      // ctx.attachments is always the latest accepted update: no copy to keep in sync, as Python's self.rtsp_url.
      ctx.logger.info(`RTSP URL: ${ctx.attachments.rtspUrl}, Fix Frame: ${ctx.attachments.fixFrame}`)
      ctx.progress(((i + 1) * 100) / 300)
      await ctx.sleep(1000) // unlike Python's time.sleep, wakes at once when the task is cancelled or the Skald stops
    }
  },
  // Python's @update_event_handler. It runs between main's awaits, after `next` passed the schema; when it returns,
  // ctx.attachments becomes `next` (throwing would refuse the update and keep the old values).
  update: (ctx, next) => ctx.logger.info(`Updating MyWorker with RTSP URL: ${next.rtspUrl}, Fix Frame: ${next.fixFrame}`),
})

if (import.meta.main) {
  await runWorkerOnce({ module: import.meta.url, export: 'MySimpleWorker' }, 'my-simple-worker', { rtsp_url: 'rtsp://example.com/stream', fix_frame: 10 })
}
