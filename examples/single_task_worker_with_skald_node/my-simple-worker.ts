// MySimpleWorker of the Python example, ported: logs its RTSP URL and frame once a second for 30 seconds.
// Run it on its own (no Skald, no servers): node examples/single_task_worker_with_skald_node/my-simple-worker.ts
import { z } from 'zod'
import { defineWorker } from '../../src/worker/index.ts'
import { runWorkerOnce } from '../example-support.ts'

/**
 * Python's MySimpleDataModel: fields `rtsp_url` / `fix_frame` with the aliases `rtspUrl` / `fixFrame` and
 * `populate_by_name`, so either spelling is accepted (the YAML file uses the field names, the task scripts and
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
    for (let i = 0; i < 30; i++) {
      ctx.logger.info('Running main logic for MyWorker')
      ctx.logger.info(`RTSP URL: ${ctx.attachments.rtspUrl}, Fix Frame: ${ctx.attachments.fixFrame}`)
      ctx.progress(((i + 1) * 100) / 30)
      await ctx.sleep(1000) // unlike Python's time.sleep, wakes at once when the task is cancelled or the Skald stops
    }
  },
})

if (import.meta.main) {
  await runWorkerOnce({ module: import.meta.url, export: 'MySimpleWorker' }, 'my-simple-worker', { rtsp_url: 'rtsp://example.com/stream', fix_frame: 10 })
}
