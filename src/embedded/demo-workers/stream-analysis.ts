// StreamAnalysis: the demo's long-running worker. It "analyses" a video stream until cancelled: one batch of `fps`
// frames a second, with made-up detections of the requested labels. Its attachments change live: the update hook
// logs the new values and the next batch uses them (ctx.attachments is the latest accepted update).
import { z } from 'zod'
import { defineWorker } from '../../worker/definition.ts'

export const StreamAnalysisAttachments = z.object({
  streamUrl: z.string().min(1, 'must name the stream'),
  fps: z.number().int().min(1).max(60),
  detect: z.array(z.string().min(1)).max(10),
})

/** Frames between two progress wraps: progress is cyclic (a stream has no end), its message counts the frames. */
const FRAMES_PER_CYCLE = 300

export const StreamAnalysis = defineWorker({
  className: 'StreamAnalysis',
  attachments: StreamAnalysisAttachments,
  isolation: 'process',
  before: (ctx) => ctx.logger.info(`connecting to ${ctx.attachments.streamUrl} at ${ctx.attachments.fps} fps, detecting ${ctx.attachments.detect.join(', ') || 'nothing'}`),
  main: async (ctx) => {
    let frames = 0
    for (let second = 1; ; second++) {
      await ctx.sleep(1000)
      const { streamUrl, fps, detect } = ctx.attachments
      frames += fps
      // Deterministic "detections", so the log changes visibly when `detect` does.
      const found = detect.map((label, i) => `${label}=${(second * (i + 3) + label.length) % 7}`)
      ctx.progress((100 * (frames % FRAMES_PER_CYCLE)) / FRAMES_PER_CYCLE, `frame ${frames}`)
      if (second % 5 === 1) ctx.logger.info(`analysed ${frames} frames of ${streamUrl} (${fps} fps); detections: ${found.join(' ') || 'none'}`)
    }
  },
  update: (ctx, next) => ctx.logger.info(`attachments updated: streamUrl=${next.streamUrl} fps=${next.fps} detect=${next.detect.join(',')}`),
  release: (ctx, ending) => ctx.logger.info(`stream analysis ended: ${ending.status}${ending.status === 'aborted' ? ` (${ending.reason})` : ''}`),
})
