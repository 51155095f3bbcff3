// The controller's view of the Skalds: who is online, in which mode, with which classes, tasks and load (wire
// §6.3, fixed). One cycle reads `skalds:hash`, then every node's keys in one batch (node-redis pipelines reads made
// in one turn: one round trip for all nodes, not one per node). It never deletes anything: a node's keys expire by
// their own TTLs, so a node that was only slow is never wiped (Python deletes the keys of any node 10 s late).
import type { Logger } from '../config/logger.ts'
import type { SkaldTaskRef } from '../model/all-task.ts'
import type { SkaldClassSchemas } from '../state/class-schemas.ts'
import type { SkaldLoad } from '../state/load.ts'
import type { SkaldNodeState, SkaldStateReader } from '../state/reader.ts'

/** One sample of a node's load, as it advertised it (our nodes) or as far as it can be told (Python nodes). */
export interface LoadSample {
  at: number
  running: number
  capacity: number | null
  cpuPercent: number | null
  rssMb: number | null
}

export interface NodeView {
  id: string
  mode: 'node' | 'edge'
  online: boolean
  /** the node's own last activity timestamp (its clock), ms */
  activityMs: number | undefined
  /** when this controller last saw the activity value change (its clock), ms */
  lastChangeAt: number
  /** its node heartbeat key exists (it expires 8 s after the node's last write: a server-side clock) */
  heartbeatPresent: boolean
  /** the node heartbeat's value (it varies on every write); 0 when absent */
  heartbeat: number
  classNames: string[]
  /** the ids of the tasks it says it runs (`all-task`) */
  taskIds: string[]
  /** the same tasks with their class names */
  tasks: SkaldTaskRef[]
  /** our nodes' advertised load; undefined for a Python node */
  load: SkaldLoad | undefined
  /** className → its attachments JSON Schema, as our nodes publish them (AttachmentCheck); undefined when it published none */
  classSchemas: SkaldClassSchemas | undefined
  /** the newest samples, oldest first, at most `historySize` */
  history: LoadSample[]
}

export type NodeChange = { type: 'node-online' | 'node-offline'; node: NodeView }

export interface NodeMonitorOptions {
  reader: SkaldStateReader
  /**
   * A node is offline when its heartbeat key is gone (it expires 8 s after the node's last write: the server's
   * clock) AND this controller has not seen its activity timestamp change for this long, ms; default 3000 (one
   * write period). Neither test reads the node's own clock, so a skewed clock is never taken for death; a node
   * is seen dead about 8 s after its last write, plus up to one monitor interval (Python: 10 s by the node's clock).
   */
  offlineAfterMs?: number
  /** load samples kept per node; default 60 (5 minutes at the default 5 s interval) */
  historySize?: number
  now?: () => number
  logger: Logger
}

export class NodeMonitor {
  readonly #o: Required<Omit<NodeMonitorOptions, 'logger'>> & { logger: Logger }
  readonly #nodes = new Map<string, NodeView>()

  constructor(options: NodeMonitorOptions) {
    this.#o = { offlineAfterMs: 3000, historySize: 60, now: Date.now, ...options }
  }

  /** Every node known, online or not (a node whose registration expired is forgotten). */
  get nodes(): ReadonlyMap<string, NodeView> {
    return this.#nodes
  }

  /** Online node-mode Skalds that are not draining: where tasks may be dispatched. */
  dispatchable(): NodeView[] {
    return [...this.#nodes.values()].filter((n) => n.online && n.mode === 'node' && n.load?.draining !== true)
  }

  /** Reads every node once; returns what changed (a node seen for the first time online counts as `node-online`). */
  async cycle(): Promise<NodeChange[]> {
    const { reader, now, offlineAfterMs } = this.#o
    const activity = await reader.activity()
    const ids = [...new Set([...activity.keys(), ...this.#nodes.keys()])]
    // One batch: node-redis sends the reads of one turn as one pipeline.
    const states = await Promise.all(ids.map((id) => reader.node(id)))
    const at = now()
    const changes: NodeChange[] = []
    ids.forEach((id, i) => {
      const state = states[i]
      const known = this.#nodes.get(id)
      if (!state) {
        // Registration expired (an hour after the last write): forget it; it was offline long before.
        if (known?.online) changes.push({ type: 'node-offline', node: { ...known, online: false } })
        this.#nodes.delete(id)
        return
      }
      const view = this.#view(id, state, known, at)
      const online = view.heartbeatPresent || at - view.lastChangeAt <= offlineAfterMs
      view.online = online
      if (online !== (known?.online ?? false)) changes.push({ type: online ? 'node-online' : 'node-offline', node: view })
      this.#nodes.set(id, view)
    })
    for (const change of changes) this.#o.logger.info({ skaldId: change.node.id, mode: change.node.mode }, change.type)
    return changes
  }

  /**
   * Re-reads one known node's tasks and load now (it announced a run ended: a slot freed). Two keys, not the seven
   * a cycle reads (measured: 14 Redis commands a short task, most of the controller's Redis traffic); its classes,
   * heartbeat and whether it is online are left to the next cycle, which reports a change.
   */
  async refresh(skaldId: string): Promise<NodeView | undefined> {
    if (!this.#nodes.has(skaldId)) return undefined
    const state = await this.#o.reader.nodeLoad(skaldId)
    const current = this.#nodes.get(skaldId)
    if (!state || !current) return current
    const view: NodeView = {
      ...current,
      taskIds: state.allTasks.tasks.map((t) => t.id),
      tasks: state.allTasks.tasks,
      load: state.load,
      history: [...current.history, loadSample(state, this.#o.now())].slice(-this.#o.historySize),
    }
    this.#nodes.set(skaldId, view)
    return view
  }

  #view(id: string, state: SkaldNodeState, known: NodeView | undefined, at: number): NodeView {
    // First sight: the node's timestamp counts when recent by our clock (10 s, as Python); afterwards only changes do.
    const changed = known === undefined ? state.activityMs !== undefined && Math.abs(at - state.activityMs) <= 10_000 : state.activityMs !== known.activityMs
    const history = [...(known?.history ?? []), loadSample(state, at)].slice(-this.#o.historySize)
    return {
      id,
      mode: state.mode,
      online: known?.online ?? false,
      activityMs: state.activityMs,
      lastChangeAt: changed ? at : (known?.lastChangeAt ?? Number.NEGATIVE_INFINITY),
      heartbeatPresent: state.heartbeat !== undefined,
      heartbeat: state.heartbeat ?? 0,
      classNames: state.classNames,
      taskIds: state.allTasks.tasks.map((t) => t.id),
      tasks: state.allTasks.tasks,
      load: state.load,
      classSchemas: state.classSchemas,
      history,
    }
  }
}

function loadSample(state: Pick<SkaldNodeState, 'allTasks' | 'load'>, at: number): LoadSample {
  return {
    at,
    running: state.load?.running ?? state.allTasks.tasks.length,
    capacity: state.load?.capacity ?? null,
    cpuPercent: state.load?.cpuPercent ?? null,
    rssMb: state.load?.rssMb ?? null,
  }
}
