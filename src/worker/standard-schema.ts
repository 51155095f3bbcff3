// The Standard Schema v1 interface (https://standardschema.dev), copied rather than imported so the worker
// runtime depends on nothing but model and config: zod 4, valibot, arktype and others implement it through
// their `~standard` property.

export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1Props<Input, Output>
}

export interface StandardSchemaV1Props<Input = unknown, Output = Input> {
  readonly version: 1
  readonly vendor: string
  readonly validate: (value: unknown) => StandardSchemaV1Result<Output> | Promise<StandardSchemaV1Result<Output>>
  readonly types?: { readonly input: Input; readonly output: Output } | undefined
}

export type StandardSchemaV1Result<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaV1Issue> }

export interface StandardSchemaV1Issue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** The type a schema produces once it has validated a value. */
export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output']

/** Joins issues into one line: `fixFrame: Expected number; rtspUrl: Required`. */
export function formatIssues(issues: ReadonlyArray<StandardSchemaV1Issue>): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.')
      return path ? `${path}: ${issue.message}` : issue.message
    })
    .join('; ')
}

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
