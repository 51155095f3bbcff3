// Connects the task manager's TaskReporter seam to the SkaldStatePublisher, so a node's runs show up in Skalds'
// Redis keys (or the in-process state): started → a fresh heartbeat, alive ticks are the publisher's own, progress
// and checkpoints ride the next tick, and each ending maps to its terminal code (or none: the heartbeat lapses).
import type { SkaldStatePublisher, RunEnding } from '../state/publisher.ts'
import type { ReportedEnding, TaskReporter } from './task-reporter.ts'

/** The publisher's ending for the manager's: paused, requeued and superseded runs write no terminal code. */
export function runEndingOf(ending: ReportedEnding): RunEnding {
  switch (ending.status) {
    case 'finished':
      return { status: 'finished' }
    case 'failed':
      return { status: 'failed', message: ending.error }
    case 'cancelled':
      return { status: 'cancelled' }
    case 'paused':
    case 'requeued':
    case 'superseded':
      return { status: 'released' }
  }
}

/**
 * A TaskReporter writing through `publisher`. The manager does not await reporters: a failed write goes to
 * `onError` (the publisher re-queues what a failed tick carried; the next tick rewrites every heartbeat).
 */
export function stateTaskReporter(
  publisher: SkaldStatePublisher,
  onError: (error: unknown) => void = () => {},
  /** called once a run's ending is written (or its write failed): e.g. announce the freed slot */
  afterEnded?: (taskId: string) => void,
): TaskReporter {
  return {
    started: (taskId, epoch, className) => void publisher.startRun({ taskId, className, epoch }).catch(onError),
    // The publisher heartbeats every current run on its own tick; an alive event needs no write of its own.
    alive: () => {},
    progress: (taskId, epoch, value, message) => publisher.progress(taskId, epoch, value, message ?? undefined),
    checkpoint: (taskId, epoch, state) => publisher.checkpoint(taskId, epoch, state),
    // Buffered until the next tick and bounded there (`logMaxLines`): a chatty worker costs no extra round trip.
    log: (taskId, epoch, line) => publisher.log(taskId, epoch, [line]),
    ended: (taskId, epoch, ending) =>
      void publisher
        .endRun(taskId, epoch, runEndingOf(ending))
        .catch(onError)
        .finally(() => afterEnded?.(taskId)),
  }
}
