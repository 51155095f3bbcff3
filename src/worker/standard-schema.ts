// Standard Schema v1 (https://standardschema.dev) for worker attachments: the interface is src/model's (shared with
// the bus, so the worker runtime still depends on nothing but model and config); the helpers are the worker's.

import { formatIssues, type StandardSchemaV1 } from '../model/standard-schema.ts'

export type { StandardSchemaV1, StandardSchemaV1Props, StandardSchemaV1Result, StandardSchemaV1Issue } from '../model/standard-schema.ts'

/** The type a schema produces once it has validated a value. */
export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output']

export { formatIssues }

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Runs a schema (sync or async) and turns its issues into one reason line; a throwing schema is a failure too. */
export async function validateWith<S extends StandardSchemaV1>(schema: S, value: unknown): Promise<Validation<InferOutput<S>>> {
  try {
    const result = await schema['~standard'].validate(value)
    if (result.issues) return { ok: false, reason: formatIssues(result.issues) || 'rejected by the schema' }
    return { ok: true, value: result.value as InferOutput<S> }
  } catch (error) {
    return { ok: false, reason: `the schema threw: ${(error as Error)?.message ?? String(error)}` }
  }
}

/** Whether a value looks like a Standard Schema v1 (the `~standard` property with version 1 and a validate function). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  const props = (value as { '~standard'?: unknown })['~standard']
  return typeof props === 'object' && props !== null && (props as { version?: unknown }).version === 1 && typeof (props as { validate?: unknown }).validate === 'function'
}
