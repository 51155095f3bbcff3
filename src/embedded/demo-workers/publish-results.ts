// PublishResults: the demo's dependent task. The dispatcher holds it until the task its `dependencies` name
// (the import) is Finished; then it publishes in a few steps and finishes.
import { z } from 'zod'
import { defineWorker } from '../../worker/definition.ts'

export const PublishResultsAttachments = z.object({
  target: z.string().min(1),
  steps: z.number().int().min(1).max(100).default(5),
})

export const PublishResults = defineWorker({
  className: 'PublishResults',
  attachments: PublishResultsAttachments,
  isolation: 'process',
  main: async (ctx) => {
    ctx.logger.info(`dependency finished: publishing to ${ctx.attachments.target}`)
    for (let step = 1; step <= ctx.attachments.steps; step++) {
      await ctx.sleep(500)
      ctx.progress((100 * step) / ctx.attachments.steps, `step ${step}/${ctx.attachments.steps}`)
    }
    ctx.logger.info(`published to ${ctx.attachments.target}`)
  },
})
