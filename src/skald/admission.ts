// Whether a node takes an assigned task: a pure decision over the stored task, the node's classes and what it
// runs now, so the rules (wire §5.2 plus capacity and deadlines) read in one place and test apart from stores.
import type { Task } from '../model/task.ts'
import type { LocalTask, WorkerClass } from './local-task.ts'
import type { IgnoredReason } from './node-events.ts'
import { ManagerCode } from './task-outcome.ts'

export interface AdmissionContext {
  skaldId: string
  /** whether a refusal at capacity hands the task back to be dispatched again (node mode) or fails it */
  requeueWhenFull: boolean
  workers: Readonly<Record<string, WorkerClass>>
  perClass: Readonly<Record<string, number>> | undefined
  maxTasks: number
  running: ReadonlyMap<string, Pick<LocalTask, 'className'>>
  now: number
}

export type Admission =
  | { kind: 'admit'; cls: WorkerClass }
  /** no write: not this node's task, or nothing to do */
  | { kind: 'ignore'; reason: IgnoredReason }
  /** a write: Failed with `CODE: message` (or, `requeue`, back to Created with no executor) */
  | { kind: 'refuse'; code: string; message: string; requeue: boolean }

/** A class's limit on this node: the node's `perClass` setting, else the class's `maxConcurrent`; undefined = none. */
export function classLimit(className: string, cls: WorkerClass, perClass: Readonly<Record<string, number>> | undefined): number | undefined {
  return perClass?.[className] ?? cls.maxConcurrent
}

export function admission(task: Task, c: AdmissionContext): Admission {
  if (task.executor !== c.skaldId) return { kind: 'ignore', reason: 'other-executor' }
  if (task.lifecycleStatus === 'Finished' || task.lifecycleStatus === 'Cancelled') return { kind: 'ignore', reason: 'terminal-status' }
  const cls = Object.hasOwn(c.workers, task.className) ? c.workers[task.className] : undefined
  if (!cls) {
    const known = Object.keys(c.workers).join(', ') || 'none'
    return { kind: 'refuse', code: ManagerCode.UnknownClass, message: `class ${JSON.stringify(task.className)} is not registered on node ${c.skaldId} (registered: ${known})`, requeue: false }
  }
  const perClass = classLimit(task.className, cls, c.perClass) ?? Infinity
  const ofClass = [...c.running.values()].filter((t) => t.className === task.className).length
  if (c.running.size >= c.maxTasks || ofClass >= perClass) {
    const why = c.running.size >= c.maxTasks ? `${c.running.size}/${c.maxTasks} tasks` : `${ofClass}/${perClass} tasks of class ${task.className}`
    return { kind: 'refuse', code: ManagerCode.Capacity, message: `node ${c.skaldId} is full (${why})${c.requeueWhenFull ? '; to be dispatched again' : ''}`, requeue: c.requeueWhenFull }
  }
  // 0 = no deadline: Python's edge tasks are written that way (wire §3.3).
  if (task.deadlineDateTime > 0 && task.deadlineDateTime <= c.now) {
    return { kind: 'refuse', code: ManagerCode.Deadline, message: `deadlineDateTime ${new Date(task.deadlineDateTime).toISOString()} passed before the task started`, requeue: false }
  }
  return { kind: 'admit', cls }
}
