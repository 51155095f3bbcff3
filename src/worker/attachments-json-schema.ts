// A worker class's attachments schema as JSON Schema (draft 2020-12, the input side: what a caller sends, defaults
// optional), which its node publishes so that a controller can check a task's attachments before storing it.
// The result may be looser than the schema (refinements, custom types and dates accept anything) but must never be
// stricter: a controller refusing attachments the worker would take is worse than one that lets a typo through to
// the node, which validates everything again at start. Patterns are meant as JavaScript regexes without flags,
// which is how the controller's Ajv reads them.
import { z } from 'zod'
import type { JsonObject } from '../model/task-runtime.ts'
import type { StandardSchemaV1 } from './standard-schema.ts'

/** The JSON Schema document (an object: the converters never produce the boolean forms), or why there is none. */
export type AttachmentsJsonSchema = { ok: true; schema: JsonObject } | { ok: false; reason: string }

const TARGET = 'draft-2020-12'

/** The Standard JSON Schema v1 converter (https://standardschema.dev), when a schema library implements it. */
interface JsonSchemaConverter {
  input(options: { target: string; libraryOptions?: Record<string, unknown> }): unknown
}

type ZodOverride = NonNullable<z.core.ToJSONSchemaParams['override']>
type ZodJsonSchema = Parameters<ZodOverride>[0]['jsonSchema']

/**
 * zod's own converter, told to loosen where its JSON Schema would refuse what the schema accepts: unrepresentable
 * parts (z.custom, dates, functions) become `{}`, and {@link loosen} handles coerce, catch, preprocess and flagged
 * regexes.
 */
const zodOptions = { unrepresentable: 'any', override: loosen } satisfies z.core.ToJSONSchemaParams

/**
 * The input JSON Schema of an attachments schema: through the Standard JSON Schema interface when the library
 * implements it (zod ≥ 4.2, valibot and arktype with their adapters), else through `z.toJSONSchema` for an older
 * zod 4, else none. Never throws: a schema that cannot be represented is `{ ok: false, reason }`.
 */
export function attachmentsJsonSchema(schema: StandardSchemaV1): AttachmentsJsonSchema {
  const props = schema['~standard']
  try {
    const converter = (props as { jsonSchema?: unknown }).jsonSchema
    let produced: unknown
    if (isConverter(converter)) {
      // libraryOptions are vendor-specific: only zod is told how to loosen.
      produced = converter.input({ target: TARGET, ...(props.vendor === 'zod' ? { libraryOptions: zodOptions } : {}) })
    } else if (isZod4(schema)) {
      produced = z.toJSONSchema(schema, { ...zodOptions, io: 'input', target: TARGET })
    } else {
      return { ok: false, reason: `a ${props.vendor} schema without the Standard JSON Schema interface (~standard.jsonSchema)` }
    }
    // A JSON round trip: the schema is published as text, and a default that is not JSON must not slip through.
    const json = JSON.parse(JSON.stringify(produced)) as unknown
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'the converter did not produce a JSON Schema object' }
    return { ok: true, schema: json as JsonObject }
  } catch (error) {
    return { ok: false, reason: `not representable as JSON Schema: ${(error as Error)?.message ?? String(error)}` }
  }
}

function isConverter(value: unknown): value is JsonSchemaConverter {
  return typeof value === 'object' && value !== null && typeof (value as { input?: unknown }).input === 'function'
}

/** A zod 4 schema (zod 3's have `_def`, not `_zod`), possibly from another copy of zod. */
function isZod4(schema: StandardSchemaV1): schema is StandardSchemaV1 & z.core.$ZodType {
  const internals = (schema as { _zod?: unknown })._zod
  return typeof internals === 'object' && internals !== null && typeof (internals as { def?: unknown }).def === 'object'
}

/** Called by zod for every node of the schema, after its JSON Schema is complete. */
function loosen({ zodSchema, jsonSchema }: Parameters<ZodOverride>[0]): void {
  const def = zodSchema._zod.def
  // Accepts values its JSON Schema refuses: coercion, a catch (anything, even absent), a preprocess (a transform
  // before the schema: zod describes the input by the schema after it), z.success (a boolean of any input), and an
  // overwrite (trim, toLowerCase…: the checks after it see the changed value).
  const coerces = 'coerce' in def && def.coerce === true
  const preprocesses = def.type === 'pipe' && def.in._zod.traits.has('$ZodTransform')
  const overwrites = def.checks?.some((check) => check._zod.def.check === 'overwrite') === true
  if (coerces || preprocesses || overwrites || def.type === 'catch' || def.type === 'success') {
    for (const key of Object.keys(jsonSchema)) delete jsonSchema[key]
    return
  }
  // A regex's flags do not reach JSON Schema's `pattern`: /abc/i would refuse "ABC". Drop the string's patterns. A
  // format (z.email(), z.emoji()…) holds its regex itself, a .regex() check in its own def.
  if (def.type === 'string' && (flaggedRegex(def) || def.checks?.some((check) => flaggedRegex(check._zod.def)))) dropPatterns(jsonSchema)
  // zod tests a fractional multipleOf in decimal arithmetic, JSON Schema validators in binary: 0.3 of 0.1 would fail.
  if (typeof jsonSchema.multipleOf === 'number' && !Number.isInteger(jsonSchema.multipleOf)) delete jsonSchema.multipleOf
  // zod runs a missing key's schema on undefined: a key whose schema takes undefined (a catch, a preprocess, a union
  // with one) may be left out, whatever `required` says.
  if (def.type === 'object' && Array.isArray(jsonSchema.required)) {
    const shape = def.shape
    const required = jsonSchema.required.filter((key) => typeof key !== 'string' || !shape[key] || !acceptsUndefined(shape[key]))
    if (required.length > 0) jsonSchema.required = required
    else delete jsonSchema.required
  }
}

function flaggedRegex(def: object): boolean {
  const pattern = (def as { pattern?: unknown }).pattern
  return pattern instanceof RegExp && /[imsuv]/.test(pattern.flags)
}

function dropPatterns(schema: ZodJsonSchema): void {
  delete schema.pattern
  if (!Array.isArray(schema.allOf)) return
  for (const part of schema.allOf) delete part.pattern
  schema.allOf = schema.allOf.filter((part) => Object.keys(part).length > 0)
  if (schema.allOf.length === 0) delete schema.allOf
}

/** Whether zod accepts undefined for this schema; a schema that throws or runs async is given the benefit of it. */
function acceptsUndefined(schema: z.core.$ZodType): boolean {
  try {
    const result = schema['~standard'].validate(undefined)
    if (!(result instanceof Promise)) return result.issues === undefined
    result.catch(() => {})
    return true
  } catch {
    return true
  }
}
