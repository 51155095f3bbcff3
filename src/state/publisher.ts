// What a Skald node tells the world through the cache memory, in Python Skalds' wire format (wire §1, §4.5, §5):
// its registration and load, and for every task it runs a heartbeat, the exception, and (keys of our own) progress,
// checkpoint and log. One tick = one backend round trip for the node and all its tasks.
import { serializeAllTasks } from '../model/all-task.ts'
import {
  SKALDS_HASH_KEY,
  SKALDS_MODE_HASH_KEY,
  skaldAllowTaskClassNameKey,
  skaldAllTaskKey,
  skaldHeartbeatKey,
  taskExceptionKey,
  taskHeartbeatKey,
  WireTimings,
} from '../model/keys.ts'
import type { JsonObject } from '../model/task-runtime.ts'
import { isPlainObject } from '../model/wire-values.ts'
import { SkaldStateArgumentError } from './errors.ts'
import type { ApplyResult, SkaldStateBackend, StateOp } from './backend.ts'
import { ClassSchemasWriter, type ClassSchemasOp } from './class-schemas.ts'
import { loadToJson, processLoadSampler, type SkaldLoad } from './load.ts'
import { skaldLoadKey, taskCheckpointKey, taskLogKey, taskProgressKey } from './keys.ts'

export interface SkaldRegistration {
  skaldId: string
  /** `node` takes dispatched tasks; `edge` runs its YAML workers and is never dispatched to. */
  mode: 'node' | 'edge'
  /** Worker class names this node can run, in registration order (`allow-task-class-name`). */
  classNames: readonly string[]
  /** Most tasks at once on this node; undefined = no limit. Advertised in `skalds:{id}:ts:load`. */
  capacity?: number
  /** The node is shutting down and takes no new task: advertised as `draining` with the load. Default false. */
  draining?: boolean
  /** Most tasks at once per class; a class not listed is limited by `capacity` only. */
  classCapacity?: Readonly<Record<string, number>>
  /**
   * className → the input JSON Schema of its attachments (null: none that JSON Schema can state), published in
   * `skalds:{id}:ts:classes` for controllers to check new tasks with. Undefined = none published (the key is
   * deleted, so one left by an earlier process with this id never describes other code).
   */
  classSchemas?: Readonly<Record<string, JsonObject | null>>
}

/** How a run ended, as the node decided from the worker's outcome (docs/workers.md, outcome → heartbeat code). */
export type RunEnding =
  | { status: 'finished' }
  | { status: 'failed'; message: string }
  | { status: 'cancelled' }
  /** No terminal code: paused, drained at shutdown for re-dispatch, or superseded. The heartbeat lapses within 8 s. */
  | { status: 'released' }

export interface TickReport {
  /** Running tasks heartbeated. */
  tasks: number
  /** Tasks dropped because `isCurrent` said their epoch moved on. */
  fenced: string[]
  /** Tasks whose heartbeat was refused because a terminal code was already there. */
  refused: string[]
  /** Ops sent in the round trip. */
  ops: number
}

export interface SkaldStatePublisher {
  /** Sets (or replaces) the node's registration and writes it at once. */
  register(info: SkaldRegistration): Promise<void>
  /**
   * A run starts: clears a terminal code and exception left by an earlier run of the task id (wire §8.1-8: stale
   * terminal codes), writes a first heartbeat, and heartbeats the task on every tick from now on.
   */
  startRun(run: { taskId: string; className: string; epoch: number }): Promise<void>
  /** Progress 0..100; sent with the next tick (or the run's end). */
  progress(taskId: string, epoch: number, value: number, message?: string): void
  /** The run's latest checkpoint (JSON); sent with the next tick (or the run's end). */
  checkpoint(taskId: string, epoch: number, state: unknown): void
  /** Log lines of the run; sent with the next tick, bounded in Redis to `logMaxLines`. */
  log(taskId: string, epoch: number, lines: readonly string[]): void
  /** A run ends: pending extras, then the terminal code (and the exception on failure), in one round trip. */
  endRun(taskId: string, epoch: number, ending: RunEnding): Promise<void>
  /** Writes the registration, load and every current task's heartbeat and pending extras: one round trip. */
  tick(): Promise<TickReport>
  /** Ticks every `periodMs` (default 3000, Python's period) until close(); failures go to `onError`. */
  startTicking(): void
  /** The tasks heartbeated now. */
  readonly runs: ReadonlyArray<{ taskId: string; className: string; epoch: number }>
  /** Stops ticking. Writes nothing more (nodes never delete their keys, wire §1.5). */
  close(): Promise<void>
}

export interface SkaldStatePublisherOptions {
  /**
   * Whether `epoch` is still this node's epoch of `taskId`: a node never writes for a task it no longer owns.
   * Asked before every write for the task. Default: the epoch of the run this publisher started is current.
   */
  isCurrent?: (taskId: string, epoch: number) => boolean
  /** Tick period in ms. Default 3000. */
  periodMs?: number
  /** TTL of running heartbeats (node and task), ms. Default 8000 (period + 5 s, as Python). */
  heartbeatTtlMs?: number
  /** TTL of hash fields, lists, all-task, terminal codes and our own keys, ms. Default 3_600_000 (REDIS_KEY_TTL). */
  keyTtlMs?: number
  /** Most log lines kept per task. Default 200. */
  logMaxLines?: number
  /** The clock, epoch ms. Default Date.now. */
  now?: () => number
  /** Replaces the load sample (tests; hosts that measure their children). */
  sampleLoad?: (base: Omit<SkaldLoad, 'cpuPercent' | 'rssMb'>) => SkaldLoad
  /** Where failures of the periodic tick go. Default: ignored (the next tick writes everything again). */
  onError?: (error: unknown) => void
}

interface Run {
  taskId: string
  className: string
  epoch: number
  lastBeat: number
}

interface Pending {
  epoch: number
  progress?: { value: number; message: string | null; timestamp: number }
  checkpoint?: { state: unknown; timestamp: number }
  logs: string[]
}

/** A skald id must be non-empty; glob characters would break the Python controller's `KEYS skalds:{id}:*` cleanup. */
function checkSkaldId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new SkaldStateArgumentError('skaldId', `must be a non-empty string, got ${JSON.stringify(id)}`)
  if (/[*?[\]]/.test(id)) throw new SkaldStateArgumentError('skaldId', `${JSON.stringify(id)} holds a glob character (*?[]); the Python controller could not clean its keys`)
  return id
}

function checkClassNames(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((n) => typeof n !== 'string' || n === '')) {
    throw new SkaldStateArgumentError('classNames', 'must be an array of non-empty strings')
  }
  return [...(value as string[])]
}

function checkClassSchemas(value: unknown): Readonly<Record<string, JsonObject | null>> | undefined {
  if (value === undefined) return undefined
  if (!isPlainObject(value) || Object.values(value).some((v) => v !== null && !isPlainObject(v))) {
    throw new SkaldStateArgumentError('classSchemas', 'must map class names to a JSON Schema object or null')
  }
  return value as Readonly<Record<string, JsonObject | null>>
}

function checkTaskId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new SkaldStateArgumentError('taskId', `must be a non-empty string, got ${JSON.stringify(id)}`)
  return id
}

function checkEpoch(epoch: unknown): number {
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
    throw new SkaldStateArgumentError('epoch', `must be a non-negative integer, got ${String(epoch)}`)
  }
  return epoch
}

/** Next running heartbeat: 1..7 ahead of the last (mod 200), so any 5 consecutive values are distinct (wire §8.3 D1). */
export function nextHeartbeat(last: number): number {
  return (last + 1 + Math.floor(Math.random() * 7)) % 200
}

class Publisher implements SkaldStatePublisher {
  readonly #backend: SkaldStateBackend
  readonly #isCurrent: (taskId: string, epoch: number) => boolean
  readonly #periodMs: number
  readonly #beatTtl: number
  readonly #keyTtl: number
  readonly #logMax: number
  readonly #now: () => number
  readonly #sampleLoad: (base: Omit<SkaldLoad, 'cpuPercent' | 'rssMb'>) => SkaldLoad
  readonly #onError: (error: unknown) => void
  readonly #schemas: ClassSchemasWriter
  #info: SkaldRegistration | undefined
  readonly #runs = new Map<string, Run>()
  /** the last sampled CPU and memory: a load written between ticks (a run started or ended) reuses them */
  #lastSample: Pick<SkaldLoad, 'cpuPercent' | 'rssMb'> = { cpuPercent: 0, rssMb: 0 }
  readonly #pending = new Map<string, Pending>()
  #nodeBeat = Math.floor(Math.random() * 200)
  #timer: NodeJS.Timeout | undefined
  #ticking: Promise<TickReport> | undefined
  #closed = false

  constructor(backend: SkaldStateBackend, options: SkaldStatePublisherOptions) {
    this.#backend = backend
    this.#isCurrent = options.isCurrent ?? ((taskId, epoch) => this.#runs.get(taskId)?.epoch === epoch)
    this.#periodMs = options.periodMs ?? WireTimings.heartbeatPeriodMs
    this.#beatTtl = options.heartbeatTtlMs ?? WireTimings.heartbeatTtlSeconds * 1000
    this.#keyTtl = options.keyTtlMs ?? WireTimings.redisKeyTtlSeconds * 1000
    this.#logMax = options.logMaxLines ?? 200
    this.#now = options.now ?? Date.now
    this.#sampleLoad = options.sampleLoad ?? processLoadSampler()
    this.#onError = options.onError ?? (() => {})
    this.#schemas = new ClassSchemasWriter(this.#keyTtl)
  }

  get runs(): ReadonlyArray<{ taskId: string; className: string; epoch: number }> {
    return [...this.#runs.values()].map(({ taskId, className, epoch }) => ({ taskId, className, epoch }))
  }

  async register(info: SkaldRegistration): Promise<void> {
    checkSkaldId(info.skaldId)
    if (info.mode !== 'node' && info.mode !== 'edge') throw new SkaldStateArgumentError('mode', `must be 'node' or 'edge', got ${JSON.stringify(info.mode)}`)
    this.#info = { ...info, classNames: checkClassNames(info.classNames) }
    const now = this.#now()
    this.#schemas.update(checkClassSchemas(info.classSchemas), now)
    const ops = this.#nodeOps(now)
    const schemaOp = this.#schemas.appendTo(ops, info.skaldId)
    await this.#settleSchemas(schemaOp, await this.#backend.apply(ops))
  }

  async startRun(run: { taskId: string; className: string; epoch: number }): Promise<void> {
    const taskId = checkTaskId(run.taskId)
    const epoch = checkEpoch(run.epoch)
    if (typeof run.className !== 'string' || run.className === '') throw new SkaldStateArgumentError('className', 'must be a non-empty string')
    const entry: Run = { taskId, className: run.className, epoch, lastBeat: Math.floor(Math.random() * 200) }
    this.#runs.set(taskId, entry)
    // A local retry runs under the same epoch: the failed run's last lines (its output reaches us after its end,
    // and it is usually what explains the failure) may still wait for a tick, so they stay. Its progress does not.
    const earlier = this.#pending.get(taskId)
    if (earlier?.epoch === epoch) delete earlier.progress
    else this.#pending.delete(taskId)
    if (!this.#isCurrent(taskId, epoch)) return
    // Unconditional SET: this is what distinguishes a new run from a late write of the old one, whose terminal
    // code the guarded `beat` would otherwise (rightly) refuse to overwrite.
    await this.#backend.apply([
      { op: 'set', key: taskHeartbeatKey(taskId), value: String(entry.lastBeat), ttlMs: this.#beatTtl },
      { op: 'set', key: taskExceptionKey(taskId), value: '', ttlMs: this.#keyTtl },
      { op: 'del', key: taskProgressKey(taskId) },
      ...this.#allTaskOps(),
      ...this.#loadOps(),
    ])
  }

  progress(taskId: string, epoch: number, value: number, message?: string): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
      throw new SkaldStateArgumentError('progress', `must be a number in 0..100, got ${String(value)}`)
    }
    const pending = this.#pendingOf(taskId, epoch)
    if (pending) pending.progress = { value, message: message ?? null, timestamp: this.#now() }
  }

  checkpoint(taskId: string, epoch: number, state: unknown): void {
    const pending = this.#pendingOf(taskId, epoch)
    if (pending) pending.checkpoint = { state, timestamp: this.#now() }
  }

  log(taskId: string, epoch: number, lines: readonly string[]): void {
    const pending = this.#pendingOf(taskId, epoch)
    if (!pending) return
    pending.logs.push(...lines)
    if (pending.logs.length > this.#logMax) pending.logs.splice(0, pending.logs.length - this.#logMax)
  }

  async endRun(taskId: string, epoch: number, ending: RunEnding): Promise<void> {
    checkTaskId(taskId)
    checkEpoch(epoch)
    const current = this.#isCurrent(taskId, epoch)
    const run = this.#runs.get(taskId)
    if (run?.epoch === epoch) this.#runs.delete(taskId)
    const ops: StateOp[] = []
    if (current) this.#extraOps(taskId, ops)
    else if (this.#pending.get(taskId)?.epoch === epoch) this.#pending.delete(taskId)
    if (current && ending.status !== 'released') {
      const code = ending.status === 'finished' ? '200' : ending.status === 'failed' ? '-1' : '-2'
      if (ending.status === 'failed') ops.push({ op: 'set', key: taskExceptionKey(taskId), value: ending.message, ttlMs: this.#keyTtl })
      // Terminal codes last REDIS_KEY_TTL; the exception is written first so a reader seeing -1 finds the message.
      ops.push({ op: 'set', key: taskHeartbeatKey(taskId), value: code, ttlMs: this.#keyTtl })
    }
    // The all-task list and the load change with every start and end: publish them now rather than up to a period
    // later, so a dispatcher sees the freed slot at once.
    if (run?.epoch === epoch) ops.push(...this.#allTaskOps(), ...this.#loadOps())
    if (ops.length > 0) await this.#backend.apply(ops)
  }

  tick(): Promise<TickReport> {
    // One tick at a time: a slow round trip must not pile up ticks behind it.
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined
    })
    return this.#ticking
  }

  startTicking(): void {
    if (this.#timer || this.#closed) return
    this.#timer = setInterval(() => {
      this.tick().catch(this.#onError)
    }, this.#periodMs)
    this.#timer.unref()
  }

  close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    return this.#ticking?.then(() => undefined, () => undefined) ?? Promise.resolve()
  }

  async #tick(): Promise<TickReport> {
    const now = this.#now()
    const fenced: string[] = []
    for (const run of [...this.#runs.values()]) {
      if (this.#isCurrent(run.taskId, run.epoch)) continue
      // The epoch moved on: this node no longer owns the task, writes nothing more for it, and stops listing it.
      this.#runs.delete(run.taskId)
      this.#pending.delete(run.taskId)
      fenced.push(run.taskId)
    }
    const ops: StateOp[] = this.#info ? this.#nodeOps(now) : []
    const schemaOp = this.#info ? this.#schemas.appendTo(ops, this.#info.skaldId) : undefined
    const beats: Array<{ index: number; taskId: string }> = []
    const taken = new Map<string, Pending>()
    for (const run of this.#runs.values()) {
      run.lastBeat = nextHeartbeat(run.lastBeat)
      beats.push({ index: ops.length, taskId: run.taskId })
      ops.push({ op: 'beat', key: taskHeartbeatKey(run.taskId), value: run.lastBeat, ttlMs: this.#beatTtl })
      const drained = this.#extraOps(run.taskId, ops)
      if (drained) taken.set(run.taskId, drained)
    }
    if (ops.length === 0) return { tasks: 0, fenced, refused: [], ops: 0 }
    let result
    try {
      result = await this.#backend.apply(ops)
    } catch (error) {
      // Heartbeats are rewritten by the next tick anyway; progress, checkpoint and log would be lost: queue them again.
      for (const [taskId, drained] of taken) this.#requeue(taskId, drained)
      throw error
    }
    await this.#settleSchemas(schemaOp, result)
    const refusedIndexes = new Set(result.refusedBeats)
    return { tasks: beats.length, fenced, refused: beats.filter((b) => refusedIndexes.has(b.index)).map((b) => b.taskId), ops: ops.length }
  }

  #nodeOps(now: number): StateOp[] {
    const info = this.#info!
    const id = info.skaldId
    this.#nodeBeat = nextHeartbeat(this.#nodeBeat)
    const load = this.#sampleLoad(this.#loadBase(now))
    this.#lastSample = { cpuPercent: load.cpuPercent, rssMb: load.rssMb }
    // Integer strings only: Python parses these with int() and deletes a node whose timestamp does not parse.
    return [
      { op: 'hset', key: SKALDS_HASH_KEY, field: id, value: String(Math.trunc(now)), ttlMs: this.#keyTtl },
      { op: 'hset', key: SKALDS_MODE_HASH_KEY, field: id, value: info.mode, ttlMs: this.#keyTtl },
      { op: 'set', key: skaldHeartbeatKey(id), value: String(this.#nodeBeat), ttlMs: this.#beatTtl },
      { op: 'list', key: skaldAllowTaskClassNameKey(id), values: [...info.classNames], ttlMs: this.#keyTtl },
      ...this.#allTaskOps(now),
      { op: 'set', key: skaldLoadKey(id), value: JSON.stringify(loadToJson(load)), ttlMs: this.#keyTtl },
    ]
  }

  /** The class schemas' op was applied; when its touch found the key gone, writes it again now (one more round trip). */
  async #settleSchemas(op: ClassSchemasOp | undefined, result: ApplyResult): Promise<void> {
    if (!this.#schemas.settle(op, result) || !this.#info) return
    const again: StateOp[] = []
    const rewrite = this.#schemas.appendTo(again, this.#info.skaldId)
    if (again.length > 0) this.#schemas.settle(rewrite, await this.#backend.apply(again))
  }

  #loadBase(now: number): Omit<SkaldLoad, 'cpuPercent' | 'rssMb'> {
    const info = this.#info!
    const runs = [...this.#runs.values()]
    return { capacity: info.capacity ?? null, running: runs.length, classes: classLoad(info, runs), draining: info.draining ?? false, timestamp: now }
  }

  /** `skalds:{id}:ts:load` of the current runs, with the last sampled CPU and memory; nothing before register(). */
  #loadOps(now = this.#now()): StateOp[] {
    if (!this.#info) return []
    const load: SkaldLoad = { ...this.#loadBase(now), ...this.#lastSample }
    return [{ op: 'set', key: skaldLoadKey(this.#info.skaldId), value: JSON.stringify(loadToJson(load)), ttlMs: this.#keyTtl }]
  }

  /** `skalds:{id}:all-task` of the current runs; nothing before register(). */
  #allTaskOps(now = this.#now()): StateOp[] {
    if (!this.#info) return []
    const tasks = [...this.#runs.values()].map((r) => ({ id: r.taskId, className: r.className }))
    return [{ op: 'set', key: skaldAllTaskKey(this.#info.skaldId), value: serializeAllTasks({ tasks, timestamp: now }), ttlMs: this.#keyTtl }]
  }

  #pendingOf(taskId: string, epoch: number): Pending | undefined {
    checkTaskId(taskId)
    checkEpoch(epoch)
    if (!this.#isCurrent(taskId, epoch)) return undefined
    let pending = this.#pending.get(taskId)
    if (pending && pending.epoch !== epoch) pending = undefined
    if (!pending) this.#pending.set(taskId, (pending = { epoch, logs: [] }))
    return pending
  }

  /** Older extras back in front of whatever arrived while the failed write was out; only for a still-current epoch. */
  #requeue(taskId: string, drained: Pending): void {
    if (this.#runs.get(taskId)?.epoch !== drained.epoch || !this.#isCurrent(taskId, drained.epoch)) return
    const newer = this.#pending.get(taskId)
    if (newer && newer.epoch !== drained.epoch) return
    const logs = [...drained.logs, ...(newer?.logs ?? [])].slice(-this.#logMax)
    this.#pending.set(taskId, {
      epoch: drained.epoch,
      progress: newer?.progress ?? drained.progress,
      checkpoint: newer?.checkpoint ?? drained.checkpoint,
      logs,
    })
  }

  /** Moves a task's pending extras into `ops`; returns what it took. */
  #extraOps(taskId: string, ops: StateOp[]): Pending | undefined {
    const pending = this.#pending.get(taskId)
    if (!pending) return undefined
    this.#pending.delete(taskId)
    const { epoch } = pending
    if (pending.progress) {
      const { value, message, timestamp } = pending.progress
      ops.push({ op: 'set', key: taskProgressKey(taskId), value: JSON.stringify({ value, message, epoch, timestamp }), ttlMs: this.#keyTtl })
    }
    if (pending.checkpoint) {
      const { state, timestamp } = pending.checkpoint
      ops.push({ op: 'set', key: taskCheckpointKey(taskId), value: JSON.stringify({ state, epoch, timestamp }), ttlMs: this.#keyTtl })
    }
    if (pending.logs.length > 0) {
      ops.push({ op: 'append', key: taskLogKey(taskId), values: pending.logs, maxLength: this.#logMax, ttlMs: this.#keyTtl })
    }
    return pending
  }
}

function classLoad(info: SkaldRegistration, runs: readonly Run[]): SkaldLoad['classes'] {
  const classes: SkaldLoad['classes'] = {}
  for (const name of info.classNames) classes[name] = { capacity: info.classCapacity?.[name] ?? null, running: 0 }
  for (const run of runs) (classes[run.className] ??= { capacity: info.classCapacity?.[run.className] ?? null, running: 0 }).running++
  return classes
}

export function createSkaldStatePublisher(backend: SkaldStateBackend, options: SkaldStatePublisherOptions = {}): SkaldStatePublisher {
  return new Publisher(backend, options)
}
