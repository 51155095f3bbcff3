// FlakyImport: fails its first `failFirst` attempts, then imports its rows. The failures it already had ride along
// in its checkpoint (a retried run gets it as ctx.resumedFrom), so the count survives retries on any node.
import { z } from 'zod'
import { defineWorker } from '../../worker/definition.ts'

export const FlakyImportAttachments = z.object({
  source: z.string().min(1),
  rows: z.number().int().min(1).max(1_000_000),
  failFirst: z.number().int().min(0).max(10).default(2),
})

export const FlakyImport = defineWorker({
  className: 'FlakyImport',
  attachments: FlakyImportAttachments,
  isolation: 'process',
  main: async (ctx) => {
    const failures = (ctx.resumedFrom as { failures?: number } | undefined)?.failures ?? 0
    const attempt = failures + 1
    ctx.logger.info(`import of ${ctx.attachments.rows} rows from ${ctx.attachments.source}: attempt ${attempt}${failures > 0 ? ` (${failures} failed before)` : ''}`)
    await ctx.sleep(800)
    if (failures < ctx.attachments.failFirst) {
      ctx.checkpoint({ failures: attempt })
      ctx.progress(0, `attempt ${attempt} failed`)
      ctx.logger.warn(`attempt ${attempt} failed: ${ctx.attachments.source} did not answer; the node retries`)
      throw new Error(`${ctx.attachments.source} did not answer (attempt ${attempt}, fails the first ${ctx.attachments.failFirst})`)
    }
    for (let done = 1; done <= 4; done++) {
      await ctx.sleep(400)
      ctx.progress(done * 25, `imported ${Math.round((ctx.attachments.rows * done) / 4)} rows`)
    }
    ctx.logger.info(`imported ${ctx.attachments.rows} rows on attempt ${attempt}`)
  },
})
