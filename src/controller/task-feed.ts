// The store's changes as a feed: whoever wrote them (a node storing Running or Finished, another controller, a
// Python controller, this one). Every store write moves `updateDateTime`, so one indexed range query per poll
// (`updatedFrom` the newest value seen, minus an overlap for writers whose clocks lag) finds them; what was already
// reported is skipped. Feeds the task caches' invalidation and the live `task_status` events of every controller.
import type { Logger } from '../config/logger.ts'
import type { Task } from '../model/task.ts'
import type { TaskStore } from '../store/task-store.ts'

export interface TaskFeedChange {
  task: Task
  /** what this feed saw of it last (status, executor); undefined when first seen */
  previous: { lifecycleStatus: Task['lifecycleStatus']; executor: string | null } | undefined
}

export interface TaskFeedOptions {
  store: TaskStore
  /** poll period, ms; default 500 */
  intervalMs?: number
  /**
   * how far back each poll looks past the newest `updateDateTime` seen, ms; default 1000. Covers writers whose
   * clock is behind this one's (a node's write stamped earlier than a later one seen from another) by up to this;
   * every poll re-reads the changes of this window, so a burst costs it on each poll.
   */
  overlapMs?: number
  /** least time between the start of two polls when kicked (this controller's writes), ms; default 100 */
  kickSpacingMs?: number
  /** most changes read per poll (the rest come next poll); default 1000 */
  batch?: number
  /** tasks remembered for `previous` and deduplication (least recently changed forgotten first); default 50000 */
  remember?: number
  onChanges: (changes: TaskFeedChange[]) => void | Promise<void>
  logger: Logger
}

export class TaskFeed {
  readonly #o: Required<Omit<TaskFeedOptions, 'logger' | 'onChanges' | 'store'>> & Pick<TaskFeedOptions, 'logger' | 'onChanges' | 'store'>
  /** id → what was reported last (insertion order = least recently changed first) */
  readonly #seen = new Map<string, { updateDateTime: number; lifecycleStatus: Task['lifecycleStatus']; executor: string | null }>()
  #cursor: number
  #timer: NodeJS.Timeout | undefined
  #busy = false
  #again = false
  #lastPollAt = 0
  #kickTimer: NodeJS.Timeout | undefined

  constructor(options: TaskFeedOptions) {
    this.#o = { intervalMs: 500, overlapMs: 1000, kickSpacingMs: 100, batch: 1000, remember: 50_000, ...options }
    this.#cursor = Date.now()
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.poll(), this.#o.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    clearTimeout(this.#kickTimer)
    this.#timer = undefined
    this.#kickTimer = undefined
  }

  /**
   * Polls soon, after this controller wrote (so its own changes are reported at once, each state in order, not
   * collapsed into the next interval's). Cheap: kicks during a poll coalesce into one more poll.
   */
  kick(): void {
    if (this.#busy) {
      this.#again = true
      return
    }
    if (this.#kickTimer) return
    // A burst of writes (a dispatch sweep) asks for a poll per write: at most one per kickSpacingMs.
    const wait = this.#lastPollAt + this.#o.kickSpacingMs - performance.now()
    if (wait <= 0) void this.poll()
    else {
      this.#kickTimer = setTimeout(() => {
        this.#kickTimer = undefined
        void this.poll()
      }, wait)
      this.#kickTimer.unref()
    }
  }

  /** One poll now; resolves with the number of changes reported. Never rejects (a failed poll is retried next time). */
  async poll(): Promise<number> {
    if (this.#busy) return 0
    this.#busy = true
    this.#lastPollAt = performance.now()
    try {
      let reported = 0
      const from = this.#cursor - this.#o.overlapMs
      // Pages until caught up (bounded), so a burst larger than one batch is not spread over several intervals. The
      // window is read as stamps (id, updateDateTime): most of it was reported by an earlier poll, and only the
      // tasks changed since are read whole.
      for (let offset = 0, pages = 0; pages < 50; pages++) {
        const stamps = await this.#o.store.changedSince(from, { offset, limit: this.#o.batch })
        const fresh = stamps.filter((s) => !((this.#seen.get(s.id)?.updateDateTime ?? -Infinity) >= s.updateDateTime)).map((s) => s.id)
        const changes: TaskFeedChange[] = []
        for (const task of fresh.length > 0 ? await this.#o.store.getMany(fresh) : []) {
          const known = this.#seen.get(task.id)
          if (known && known.updateDateTime >= task.updateDateTime) continue
          changes.push({ task, previous: known ? { lifecycleStatus: known.lifecycleStatus, executor: known.executor } : undefined })
          this.#remember(task)
          if (task.updateDateTime > this.#cursor) this.#cursor = task.updateDateTime
        }
        if (changes.length > 0) await this.#o.onChanges(changes)
        reported += changes.length
        if (stamps.length < this.#o.batch) break
        offset += stamps.length
      }
      return reported
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'task feed poll failed; the next poll retries')
      return 0
    } finally {
      this.#busy = false
      if (this.#again) {
        this.#again = false
        this.kick()
      }
    }
  }

  #remember(task: Task): void {
    this.#seen.delete(task.id)
    this.#seen.set(task.id, { updateDateTime: task.updateDateTime, lifecycleStatus: task.lifecycleStatus, executor: task.executor })
    if (this.#seen.size > this.#o.remember) this.#seen.delete(this.#seen.keys().next().value!)
  }
}
