// Prometheus metrics of one controller (`GET /metrics`), on its own registry. Gauges are read when scraped (from
// the cached task counts and the node monitor's view), so a scrape costs a few store counts, not a scan. The
// per-class waiting tasks and free capacity are what a container autoscaler (Kubernetes HPA, KEDA) scales Skald
// nodes on: scale out while tasks wait and no capacity is free, in while capacity stays free.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { LIFECYCLE_STATUSES } from '../model/enums.ts'
import type { TaskStore } from '../store/task-store.ts'
import type { ControlEvent } from './control-events.ts'
import type { TaskReads } from './task-reads.ts'
import type { NodeView } from './node-monitor.ts'
import type { TaskFeedChange } from './task-feed.ts'

export interface ControllerMetricsOptions {
  reads: TaskReads
  store: TaskStore
  /** every node the controller knows (the node monitor's view) */
  nodes: () => Iterable<NodeView>
  isLeader: () => boolean
  /** hit rate per cache namespace, 0..1 (the task caches); default none */
  cacheHitRates?: () => Record<string, number>
  /** connected SSE clients per stream; default none */
  sseClients?: () => Record<string, number>
  /** most classes given their own series (the rest are summed under class="_other"); default 200 */
  maxClasses?: number
}

/** Free slots for `className` on one node: the lower of the node's and the class's; Infinity when unbounded. */
export function freeSlots(node: NodeView, className: string): number {
  if (!node.online || node.mode !== 'node' || node.load?.draining || !node.classNames.includes(className)) return 0
  const load = node.load
  if (!load) return Number.POSITIVE_INFINITY // a Python node advertises no capacity
  const nodeFree = load.capacity === null ? Number.POSITIVE_INFINITY : Math.max(0, load.capacity - load.running)
  const cls = load.classes[className]
  const classFree = !cls || cls.capacity === null ? Number.POSITIVE_INFINITY : Math.max(0, cls.capacity - cls.running)
  return Math.min(nodeFree, classFree)
}

export class ControllerMetrics {
  readonly registry = new Registry()
  readonly #dispatchWait: Histogram
  readonly #feedLag: Histogram
  readonly #decisions: Counter

  constructor(o: ControllerMetricsOptions) {
    const registry = this.registry
    const maxClasses = o.maxClasses ?? 200
    this.#dispatchWait = new Histogram({
      name: 'skalds_dispatch_latency_seconds',
      help: 'Time from a task becoming dispatchable (created, resumed, retried, handed back) to its assignment',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    })
    this.#feedLag = new Histogram({
      name: 'skalds_event_lag_seconds',
      help: "Time from a task's change in the store (its updateDateTime, the writer's clock) to this controller seeing it",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    })
    this.#decisions = new Counter({ name: 'skalds_control_decisions_total', help: 'Control-plane decisions by type', labelNames: ['type'], registers: [registry] })
    new Gauge({
      name: 'skalds_tasks',
      help: 'Stored tasks by lifecycle status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const counts = await o.reads.countByStatus()
        for (const status of LIFECYCLE_STATUSES) this.set({ status }, counts[status])
      },
    })
    new Gauge({
      name: 'skalds_nodes_online',
      help: 'Skalds online, by mode',
      labelNames: ['mode'],
      registers: [registry],
      collect() {
        const online = { node: 0, edge: 0 }
        for (const n of o.nodes()) if (n.online) online[n.mode]++
        this.set({ mode: 'node' }, online.node)
        this.set({ mode: 'edge' }, online.edge)
      },
    })
    new Gauge({
      name: 'skalds_leader',
      help: '1 while this controller leads monitoring and dispatch',
      registers: [registry],
      collect() {
        this.set(o.isLeader() ? 1 : 0)
      },
    })
    const classesNow = async (): Promise<string[]> => {
      const classes = new Set<string>((await o.reads.classNames()).slice(0, maxClasses))
      for (const n of o.nodes()) for (const c of n.classNames) if (classes.size < maxClasses) classes.add(c)
      return [...classes]
    }
    new Gauge({
      name: 'skalds_class_waiting_tasks',
      help: 'Tasks of a class waiting to be dispatched (Created)',
      labelNames: ['class'],
      registers: [registry],
      async collect() {
        const classes = await classesNow()
        const counts = await Promise.all(classes.map((c) => o.store.count({ lifecycleStatus: 'Created', className: c })))
        this.reset()
        classes.forEach((c, i) => this.set({ class: c }, counts[i]!))
      },
    })
    new Gauge({
      name: 'skalds_class_free_capacity',
      help: 'Free slots for a class over the online, non-draining node-mode Skalds (+Inf: a node without a limit)',
      labelNames: ['class'],
      registers: [registry],
      async collect() {
        const classes = await classesNow()
        const nodes = [...o.nodes()]
        this.reset()
        for (const c of classes) this.set({ class: c }, nodes.reduce((sum, n) => sum + freeSlots(n, c), 0))
      },
    })
    if (o.cacheHitRates) {
      const rates = o.cacheHitRates
      new Gauge({
        name: 'skalds_cache_hit_ratio',
        help: 'Cache hits / reads per namespace since start',
        labelNames: ['namespace'],
        registers: [registry],
        collect() {
          for (const [namespace, rate] of Object.entries(rates())) this.set({ namespace }, rate)
        },
      })
    }
    if (o.sseClients) {
      const clients = o.sseClients
      new Gauge({
        name: 'skalds_sse_clients',
        help: 'Connected live-event (SSE) clients per stream',
        labelNames: ['stream'],
        registers: [registry],
        collect() {
          for (const [stream, n] of Object.entries(clients())) this.set({ stream }, n)
        },
      })
    }
  }

  /** Counts a control-plane decision; a dispatch also records how long the task waited. */
  observe(event: ControlEvent): void {
    this.#decisions.inc({ type: event.type })
    if (event.type === 'task-dispatched') this.#dispatchWait.observe(event.waitedMs / 1000)
  }

  /** Records how late the change feed saw each change. */
  observeFeed(changes: readonly TaskFeedChange[], now = Date.now()): void {
    for (const { task } of changes) this.#feedLag.observe(Math.max(0, now - task.updateDateTime) / 1000)
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }
}
