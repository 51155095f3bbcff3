// Reads a node's registration and a task's heartbeat, exception and extras the way the Python controller does
// (wire §1.4, §6.3, §6.4): integers through int() semantics, a missing or unparsable task heartbeat counts as 0, an
// all-task value only counts items with `id` and `class_name`. For the tests and for the controller.
import { parseAllTasks, type SkaldAllTasks } from '../model/all-task.ts'
import {
  SKALDS_HASH_KEY,
  SKALDS_MODE_HASH_KEY,
  skaldAllowTaskClassNameKey,
  skaldAllTaskKey,
  skaldHeartbeatKey,
  taskExceptionKey,
  taskHasErrorKey,
  taskHeartbeatKey,
} from '../model/keys.ts'
import { isPlainObject } from '../model/wire-values.ts'
import type { SkaldStateBackend } from './backend.ts'
import { parseClassSchemas, type SkaldClassSchemas } from './class-schemas.ts'
import { skaldClassesKey, skaldLoadKey, taskCheckpointKey, taskLogKey, taskProgressKey } from './keys.ts'
import { parseLoad, type SkaldLoad } from './load.ts'

/** Python's int() on a str: optional sign, digits with single underscores between them, surrounding whitespace. */
export function parsePythonInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*[+-]?\d+(_\d+)*\s*$/.test(text)) return undefined
  const n = Number(text.trim().replaceAll('_', ''))
  return Number.isSafeInteger(n) ? n : undefined
}

export interface SkaldNodeState {
  skaldId: string
  /** `skalds:hash` value, epoch ms; undefined when absent or unparsable (Python then deletes the node's keys). */
  activityMs: number | undefined
  /** TTL of the `skalds:hash` field, ms (null: none). */
  activityTtlMs: number | null | undefined
  /** A missing mode field means `node`, as Python reads it. */
  mode: 'node' | 'edge'
  heartbeat: number | undefined
  classNames: string[]
  allTasks: SkaldAllTasks
  /** Our own key; undefined for a Python node. */
  load: SkaldLoad | undefined
  /** className → attachments JSON Schema (our own key); undefined when the node published none (a Python node, or ours before or without it) */
  classSchemas: SkaldClassSchemas | undefined
}

export interface TaskProgress {
  value: number
  message: string | null
  epoch: number
  timestamp: number
}

export interface TaskState {
  taskId: string
  /** The heartbeat as Python's TaskMonitor sees it: 0 when the key is missing or unparsable. */
  heartbeat: number
  /** Whether the key exists at all (a lapsed running heartbeat and a never-written one both read 0). */
  heartbeatPresent: boolean
  heartbeatTtlMs: number | null | undefined
  /** `task:{id}:exception`; Python records only a non-empty value. */
  exception: string | undefined
  hasError: string | undefined
  progress: TaskProgress | undefined
  checkpoint: { state: unknown; epoch: number; timestamp: number } | undefined
  log: string[]
}

/** What a monitor samples of a run each cycle: its heartbeat and error keys. */
export interface TaskBeat {
  taskId: string
  /** the value as Python reads it: missing or unparsable = 0 */
  heartbeat: number
  heartbeatPresent: boolean
  /** remaining TTL of the heartbeat key, ms; null = none */
  heartbeatTtlMs: number | null | undefined
  exception: string | undefined
  hasError: string | undefined
}

export interface SkaldStateReader {
  /** `skalds:hash` as Python's SkaldMonitor reads it: id → timestamp (undefined when it does not parse). */
  activity(): Promise<Map<string, number | undefined>>
  node(skaldId: string): Promise<SkaldNodeState | undefined>
  /**
   * A node's task list and advertised load only (two keys instead of the node's seven): what changes when one of
   * its runs starts or ends. undefined when the node lists no tasks key (gone, or never started).
   */
  nodeLoad(skaldId: string): Promise<Pick<SkaldNodeState, 'allTasks' | 'load'> | undefined>
  task(taskId: string): Promise<TaskState>
  /** The heartbeat and error keys only: what a monitor cycle reads for every run (batch them in one turn). */
  beat(taskId: string): Promise<TaskBeat>
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

class Reader implements SkaldStateReader {
  readonly #backend: SkaldStateBackend
  constructor(backend: SkaldStateBackend) {
    this.#backend = backend
  }

  async activity(): Promise<Map<string, number | undefined>> {
    const hash = await this.#backend.getHash(SKALDS_HASH_KEY)
    return new Map(Object.entries(hash).map(([id, value]) => [id, parsePythonInt(value)]))
  }

  async node(skaldId: string): Promise<SkaldNodeState | undefined> {
    const b = this.#backend
    const [activity, mode, heartbeat, classes, allTask, load, schemas] = await Promise.all([
      b.getHashField(SKALDS_HASH_KEY, skaldId),
      b.getHashField(SKALDS_MODE_HASH_KEY, skaldId),
      b.getString(skaldHeartbeatKey(skaldId)),
      b.getList(skaldAllowTaskClassNameKey(skaldId)),
      b.getString(skaldAllTaskKey(skaldId)),
      b.getString(skaldLoadKey(skaldId)),
      b.getString(skaldClassesKey(skaldId)),
    ])
    if (!activity && !heartbeat && !classes && !allTask) return undefined
    return {
      skaldId,
      activityMs: parsePythonInt(activity?.value),
      activityTtlMs: activity?.ttlMs,
      mode: mode?.value === 'edge' ? 'edge' : 'node',
      heartbeat: parsePythonInt(heartbeat?.value),
      classNames: classes?.values ?? [],
      allTasks: parseAllTasks(allTask?.value),
      load: parseLoad(load?.value),
      classSchemas: parseClassSchemas(schemas?.value),
    }
  }

  async nodeLoad(skaldId: string): Promise<Pick<SkaldNodeState, 'allTasks' | 'load'> | undefined> {
    const [allTask, load] = await Promise.all([this.#backend.getString(skaldAllTaskKey(skaldId)), this.#backend.getString(skaldLoadKey(skaldId))])
    if (!allTask) return undefined
    return { allTasks: parseAllTasks(allTask.value), load: parseLoad(load?.value) }
  }

  async beat(taskId: string): Promise<TaskBeat> {
    const b = this.#backend
    const [heartbeat, exception, hasError] = await Promise.all([b.getString(taskHeartbeatKey(taskId)), b.getString(taskExceptionKey(taskId)), b.getString(taskHasErrorKey(taskId))])
    return {
      taskId,
      heartbeat: parsePythonInt(heartbeat?.value) ?? 0,
      heartbeatPresent: heartbeat !== undefined,
      heartbeatTtlMs: heartbeat?.ttlMs,
      exception: exception?.value,
      hasError: hasError?.value,
    }
  }

  async task(taskId: string): Promise<TaskState> {
    const b = this.#backend
    const [heartbeat, exception, hasError, progress, checkpoint, log] = await Promise.all([
      b.getString(taskHeartbeatKey(taskId)),
      b.getString(taskExceptionKey(taskId)),
      b.getString(taskHasErrorKey(taskId)),
      b.getString(taskProgressKey(taskId)),
      b.getString(taskCheckpointKey(taskId)),
      b.getList(taskLogKey(taskId)),
    ])
    const p = parseJson(progress?.value)
    const c = parseJson(checkpoint?.value)
    return {
      taskId,
      heartbeat: parsePythonInt(heartbeat?.value) ?? 0,
      heartbeatPresent: heartbeat !== undefined,
      heartbeatTtlMs: heartbeat?.ttlMs,
      exception: exception?.value,
      hasError: hasError?.value,
      progress: isPlainObject(p) && typeof p.value === 'number' ? (p as unknown as TaskProgress) : undefined,
      checkpoint: isPlainObject(c) && 'state' in c ? (c as unknown as TaskState['checkpoint']) : undefined,
      log: log?.values ?? [],
    }
  }
}

export function createSkaldStateReader(backend: SkaldStateBackend): SkaldStateReader {
  return new Reader(backend)
}
