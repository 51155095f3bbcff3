// A node that writes the wire the way the Python Skald does (wire §1, §4.5, §5.2): registration keys every
// period, random task heartbeats (0..199) from its "workers", 200 / -1 (with the exception) / -2 at the end, and
// never a lifecycleStatus in the store. The controller must judge its runs from the heartbeats alone. For the
// control-plane tests on the embedded engines; the real Python Skald is exercised by the interop tests.
import type { EventBus, Subscription } from '../../src/bus/types.ts'
import { nodeGroupId } from '../../src/bus/types.ts'
import { taskEventSchema, type TaskEvent } from '../../src/model/events.ts'
import { SKALDS_HASH_KEY, SKALDS_MODE_HASH_KEY, skaldAllTaskKey, skaldAllowTaskClassNameKey, skaldHeartbeatKey, taskExceptionKey, taskHeartbeatKey } from '../../src/model/keys.ts'
import { Topic } from '../../src/model/topics.ts'
import type { SkaldStateBackend, StateOp } from '../../src/state/backend.ts'
import type { TaskStore } from '../../src/store/task-store.ts'

export class PythonStyleNode {
  readonly id: string
  readonly classNames: string[]
  /** task ids this node runs, and whether their "worker" still heartbeats */
  readonly running = new Map<string, { beating: boolean }>()
  readonly #state: SkaldStateBackend
  readonly #store: TaskStore
  readonly #bus: EventBus
  readonly #periodMs: number
  #timer: NodeJS.Timeout | undefined
  #sub: Subscription | undefined
  #registered = true

  constructor(o: { id: string; classNames: string[]; state: SkaldStateBackend; store: TaskStore; bus: EventBus; periodMs?: number }) {
    this.id = o.id
    this.classNames = o.classNames
    this.#state = o.state
    this.#store = o.store
    this.#bus = o.bus
    this.#periodMs = o.periodMs ?? 100
  }

  async start(): Promise<void> {
    // As Python's _create_task_worker: the document must exist, have a registered class and name this node.
    this.#sub = await this.#bus.subscribe<TaskEvent>(Topic.TaskAssign, nodeGroupId(this.id), async (event) => {
      for (const id of event.payload.taskIds) {
        const task = await this.#store.get(id)
        // Python restarts nothing for a task already in its table; a hung worker's id is taken again here.
        if (task && task.executor === this.id && this.classNames.includes(task.className) && this.running.get(id)?.beating !== true) this.running.set(id, { beating: true })
      }
    }, { schema: taskEventSchema })
    await this.#tick()
    this.#timer = setInterval(() => void this.#tick(), this.#periodMs)
  }

  /** The worker ends: 200, -1 with the exception, or -2 (TTL as Python's REDIS_KEY_TTL). */
  async end(taskId: string, code: 200 | -1 | -2, exception = ''): Promise<void> {
    this.running.delete(taskId)
    const ops: StateOp[] = []
    if (code === -1) ops.push({ op: 'set', key: taskExceptionKey(taskId), value: exception, ttlMs: 0 })
    ops.push({ op: 'set', key: taskHeartbeatKey(taskId), value: String(code), ttlMs: 3_600_000 })
    await this.#state.apply(ops)
  }

  /** The worker hangs or dies without a word: its heartbeat stops (the key expires). */
  hang(taskId: string): void {
    const r = this.running.get(taskId)
    if (r) r.beating = false
  }

  /** The whole node dies: no more writes (its keys expire by their TTLs). */
  kill(): void {
    this.#registered = false
    clearInterval(this.#timer)
  }

  async stop(): Promise<void> {
    this.kill()
    await this.#sub?.close()
  }

  async #tick(): Promise<void> {
    if (!this.#registered) return
    const ids = [...this.running.keys()]
    const ops: StateOp[] = [
      { op: 'hset', key: SKALDS_HASH_KEY, field: this.id, value: String(Date.now()), ttlMs: 3_600_000 },
      { op: 'hset', key: SKALDS_MODE_HASH_KEY, field: this.id, value: 'node', ttlMs: 3_600_000 },
      // Python's random values; with a short TTL here so a dead node's key goes as quickly as the test's timings.
      { op: 'set', key: skaldHeartbeatKey(this.id), value: String(Math.floor(Math.random() * 200)), ttlMs: this.#periodMs * 3 },
      { op: 'list', key: skaldAllowTaskClassNameKey(this.id), values: this.classNames, ttlMs: 3_600_000 },
      { op: 'set', key: skaldAllTaskKey(this.id), value: JSON.stringify({ tasks: ids.map((id) => ({ id, class_name: 'X' })), existed_task_ids: ids, timestamp: Date.now() }), ttlMs: 3_600_000 },
    ]
    for (const [id, r] of this.running) {
      if (r.beating) ops.push({ op: 'set', key: taskHeartbeatKey(id), value: String(Math.floor(Math.random() * 200)), ttlMs: this.#periodMs * 3 })
    }
    await this.#state.apply(ops)
  }
}
