// Which node gets a task: the dispatch strategies (wire §6.5, fixed) as pure functions over the eligible nodes.
// Eligibility (online, node mode, has the class, free capacity) is decided before; a strategy only orders.
import type { DispatchStrategy } from '../config/env.ts'
import type { NodeView } from './node-monitor.ts'

/**
 * `LEAST_TASKS` (default): the node running the fewest tasks (counting those dispatched this sweep); ties: the
 * lower id. `ROUND_ROBIN`: a real rotation over the eligible nodes, in id order, kept across sweeps. `RANDOM`:
 * uniform. `LEAST_LOAD`: the least loaded node by its advertised state, running / capacity, then CPU (the mean of
 * its recent samples); a node that advertises no load (a Python node) counts as half busy.
 */
export const DISPATCH_STRATEGIES: readonly DispatchStrategy[] = ['LEAST_TASKS', 'ROUND_ROBIN', 'RANDOM', 'LEAST_LOAD']

/** A node as a strategy sees it: its view and what this sweep has already given it. */
export interface Candidate {
  node: NodeView
  /** tasks it runs now (advertised, or its all-task list) plus those dispatched to it this sweep */
  running: number
}

export interface Picker {
  pick<C extends Candidate>(candidates: readonly C[]): C
}

export function createPicker(strategy: DispatchStrategy, random: () => number = Math.random): Picker {
  switch (strategy) {
    case 'LEAST_TASKS':
      return { pick: <C extends Candidate>(cs: readonly C[]) => minBy(cs, (c) => c.running) }
    case 'RANDOM':
      return { pick: <C extends Candidate>(cs: readonly C[]) => cs[Math.floor(random() * cs.length)] ?? cs[0]! }
    case 'LEAST_LOAD':
      return { pick: <C extends Candidate>(cs: readonly C[]) => minBy(cs, loadScore) }
    case 'ROUND_ROBIN': {
      let last: string | undefined
      return {
        pick: <C extends Candidate>(cs: readonly C[]) => {
          // The next id after the last one given a task, so nodes joining or leaving keep the rotation fair.
          const sorted = [...cs].sort((a, b) => (a.node.id < b.node.id ? -1 : 1))
          const next = sorted.find((c) => last === undefined || c.node.id > last) ?? sorted[0]!
          last = next.node.id
          return next
        },
      }
    }
  }
}

/** 0 (idle) … ≥1 (full): how busy a node is by its own advertised state, CPU breaking near-ties. */
export function loadScore(c: Candidate): number {
  const capacity = c.node.load?.capacity ?? null
  const share = capacity === null ? (c.node.load ? c.running / (c.running + 8) : 0.5) : c.running / Math.max(1, capacity)
  const cpus = c.node.history.flatMap((s) => (s.cpuPercent === null ? [] : [s.cpuPercent])).slice(-6)
  const cpu = cpus.length > 0 ? cpus.reduce((a, b) => a + b, 0) / cpus.length / 100 : 0.5
  return share * 0.7 + Math.min(cpu, 1) * 0.3
}

function minBy<T extends Candidate>(cs: readonly T[], score: (c: T) => number): T {
  let best = cs[0]!
  let bestScore = score(best)
  for (const c of cs.slice(1)) {
    const s = score(c)
    if (s < bestScore || (s === bestScore && c.node.id < best.node.id)) {
      best = c
      bestScore = s
    }
  }
  return best
}
