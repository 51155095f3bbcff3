// JSON values that cross the parent↔child boundary (checkpoints): checked to be plain JSON and bounded in size.
import type { JsonValue } from '../model/task-runtime.ts'
import { CheckpointError } from './errors.ts'

// One JsonValue for the whole package: a checkpoint is the same value in the worker, the node and the store.
export type { JsonValue }

/** Default upper bound of one checkpoint, in bytes of its UTF-8 JSON. */
export const DEFAULT_CHECKPOINT_MAX_BYTES = 64 * 1024

/**
 * Serializes a checkpoint and returns a detached copy (what the host will receive), so later mutation of the
 * caller's object changes nothing. Throws when JSON cannot carry it exactly (undefined, functions, bigint,
 * NaN, cycles, class instances turned into `{}`) or when it exceeds `maxBytes`.
 */
export function toBoundedJson(value: unknown, maxBytes: number): { json: string; copy: JsonValue } {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new CheckpointError(`checkpoint: not serializable as JSON (${(error as Error).message})`, { cause: error })
  }
  if (json === undefined) throw new CheckpointError('checkpoint: not serializable as JSON (undefined, a function or a symbol)')
  const bytes = Buffer.byteLength(json)
  if (bytes > maxBytes) throw new CheckpointError(`checkpoint: ${bytes} bytes of JSON, more than the ${maxBytes} allowed`)
  const problem = firstNonJson(value, '$')
  if (problem) throw new CheckpointError(`checkpoint: ${problem}`)
  return { json, copy: JSON.parse(json) as JsonValue }
}

/** Finds a value that JSON.stringify would silently change (it drops or rewrites them rather than throwing). */
function firstNonJson(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > 64) return `${path}: nested deeper than 64 levels`
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path}: ${value} is not a JSON number`
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = firstNonJson(value[i], `${path}[${i}]`, depth + 1)
      if (problem) return problem
    }
    return undefined
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto !== Object.prototype && proto !== null) return `${path}: a ${value.constructor?.name ?? 'class'} instance is not plain JSON`
    for (const [key, item] of Object.entries(value)) {
      const problem = firstNonJson(item, `${path}.${key}`, depth + 1)
      if (problem) return problem
    }
    return undefined
  }
  return `${path}: a ${typeof value} is not JSON`
}
