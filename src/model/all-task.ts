// The `skalds:{id}:all-task` value (wire §1.3): compact JSON with snake_case keys, written without aliases.
// The Python controller only counts items that carry both `id` and `class_name`.
import { isPlainObject } from './wire-values.ts'

export interface SkaldTaskRef {
  id: string
  className: string
}

export interface SkaldAllTasks {
  tasks: SkaldTaskRef[]
  /** epoch ms of the last change */
  timestamp: number
}

/** `{"tasks":[{"id","class_name"}],"existed_task_ids":[…],"timestamp":ms}`, exactly as a Python node writes it. */
export function serializeAllTasks(value: SkaldAllTasks): string {
  return JSON.stringify({
    tasks: value.tasks.map((t) => ({ id: t.id, class_name: t.className })),
    existed_task_ids: value.tasks.map((t) => t.id),
    timestamp: Math.trunc(value.timestamp),
  })
}

/**
 * Reads an all-task value the way the Python controller does: anything unparsable is an empty list, and only
 * items with a string `id` and a string `class_name` (or `className`) count.
 */
export function parseAllTasks(text: string | null | undefined): SkaldAllTasks {
  if (!text) return { tasks: [], timestamp: 0 }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { tasks: [], timestamp: 0 }
  }
  if (!isPlainObject(value) || !Array.isArray(value.tasks)) return { tasks: [], timestamp: 0 }
  const tasks: SkaldTaskRef[] = []
  for (const item of value.tasks as unknown[]) {
    if (!isPlainObject(item) || typeof item.id !== 'string') continue
    const className = typeof item.class_name === 'string' ? item.class_name : item.className
    if (typeof className === 'string') tasks.push({ id: item.id, className })
  }
  const ts = typeof value.timestamp === 'number' && Number.isFinite(value.timestamp) ? Math.trunc(value.timestamp) : 0
  return { tasks, timestamp: ts }
}
