// BatchReport: counts through `steps` steps, one every `stepMs`, saving a checkpoint after each. Paused, it stops at
// once (its sleep wakes with the abort); resumed, it goes on from the step its checkpoint names.
import { z } from 'zod'
import { defineWorker } from '../../worker/definition.ts'

export const BatchReportAttachments = z.object({
  steps: z.number().int().min(1).max(100_000),
  stepMs: z.number().int().min(10).max(60_000).default(1000),
})

export const BatchReport = defineWorker({
  className: 'BatchReport',
  attachments: BatchReportAttachments,
  isolation: 'process',
  main: async (ctx) => {
    const from = (ctx.resumedFrom as { step?: number } | undefined)?.step ?? 0
    const { steps, stepMs } = ctx.attachments
    ctx.logger.info(from > 0 ? `resuming from step ${from} of ${steps}` : `starting the report: ${steps} steps`)
    for (let step = from + 1; step <= steps; step++) {
      await ctx.sleep(stepMs)
      ctx.checkpoint({ step })
      ctx.progress((100 * step) / steps, `step ${step}/${steps}`)
    }
    ctx.logger.info(`report done: ${steps} steps`)
  },
  release: (ctx, ending) => {
    if (ending.status === 'aborted') ctx.logger.info(`stopped (${ending.reason}); the checkpoint keeps the last step done`)
  },
})
