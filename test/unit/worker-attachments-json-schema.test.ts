// attachmentsJsonSchema: zod schemas as the input JSON Schema a controller checks tasks with (defaults optional,
// nested, enums, unions, custom parts), other libraries through Standard JSON Schema, and the parts loosened so it
// is never stricter than the schema (the property test of that, through the controller's Ajv, is in
// controller-attachment-check.test.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { z } from 'zod'
import { attachmentsJsonSchema } from '../../src/worker/attachments-json-schema.ts'
import type { StandardSchemaV1 } from '../../src/worker/standard-schema.ts'

const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false })

function jsonSchema(schema: StandardSchemaV1): Record<string, unknown> {
  const result = attachmentsJsonSchema(schema)
  assert.ok(result.ok, result.ok ? '' : result.reason)
  return result.schema
}

/** Whether the JSON Schema accepts `value`. */
function accepts(schema: StandardSchemaV1, value: unknown): boolean {
  return ajv.compile(jsonSchema(schema))(value)
}

void describe('attachmentsJsonSchema: zod', () => {
  void it('the input side: a default makes a field optional; optional, nested, enums and unions as zod says', () => {
    const schema = z.object({
      until: z.number().int().min(1),
      stepMs: z.number().int().min(0).default(20),
      label: z.string().optional(),
      camera: z.object({ url: z.string(), fps: z.number().max(60) }),
      quality: z.enum(['low', 'high']),
      target: z.union([z.object({ kind: z.literal('file'), path: z.string() }), z.object({ kind: z.literal('s3'), bucket: z.string() })]),
    })
    const js = jsonSchema(schema)
    assert.equal(js.$schema, 'https://json-schema.org/draft/2020-12/schema')
    assert.deepEqual(js.required, ['until', 'camera', 'quality', 'target'])
    const props = js.properties as Record<string, Record<string, unknown>>
    assert.deepEqual(props.until, { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
    assert.equal(props.stepMs!.default, 20)
    assert.deepEqual(props.quality!.enum, ['low', 'high'])
    const valid = { until: 3, camera: { url: 'rtsp://x', fps: 25 }, quality: 'low', target: { kind: 's3', bucket: 'b' } }
    assert.ok(accepts(schema, valid))
    assert.ok(!accepts(schema, { ...valid, until: 0 }))
    assert.ok(!accepts(schema, { ...valid, until: 'x' }))
    assert.ok(!accepts(schema, { ...valid, quality: 'medium' }))
    assert.ok(!accepts(schema, { ...valid, camera: { url: 'x', fps: 61 } }))
    assert.ok(!accepts(schema, { ...valid, target: { kind: 'file', bucket: 'b' } }))
    assert.ok(!accepts(schema, { camera: valid.camera, quality: 'low', target: valid.target }), 'until is required')
  })

  void it('unrepresentable parts (custom, dates, functions, bigint) accept anything instead of throwing; transforms describe their input', () => {
    const schema = z.object({
      id: z.custom<string>((v) => typeof v === 'string' && v.startsWith('id-')),
      at: z.date(),
      big: z.bigint().optional(),
      callback: z.function().optional(),
      name: z.string().transform((s) => s.trim().length),
    })
    const props = jsonSchema(schema).properties as Record<string, unknown>
    assert.deepEqual(props.id, {})
    assert.deepEqual(props.at, {})
    assert.deepEqual(props.name, { type: 'string' })
    assert.ok(accepts(schema, { id: 42, at: 'whenever', name: 'x' }), 'looser than the schema, never stricter')
    assert.ok(!accepts(schema, { id: 'id-1', at: 1, name: 7 }), 'what can be stated is still checked')
  })

  void it('never stricter: coerce, catch, preprocess and flagged regexes are loosened', () => {
    const schema = z.object({
      count: z.coerce.number(),
      mode: z.enum(['a', 'b']).catch('a'),
      size: z.preprocess((v) => v ?? 10, z.number()),
      code: z.string().regex(/^abc$/i),
      plain: z.string().regex(/^x+$/),
      nested: z.object({ flag: z.boolean().catch(false) }),
    })
    const js = jsonSchema(schema)
    assert.deepEqual(js.required, ['count', 'code', 'plain', 'nested'], 'catch and preprocess accept a missing key')
    assert.ok(accepts(schema, { count: '5', mode: 'zzz', code: 'ABC', plain: 'xx', nested: { flag: 'no' } }))
    assert.ok(!accepts(schema, { count: 1, code: 'abc', plain: 'y', nested: {} }), 'an unflagged regex is still a pattern')
    for (const value of [{ count: '5', mode: 'zzz', code: 'ABC', plain: 'xx', nested: { flag: 'no' } }, { count: 1, code: 'abc', plain: 'x', nested: {} }]) {
      assert.ok(schema.safeParse(value).success, JSON.stringify(value))
    }
  })

  void it('never stricter: overwrites (trim, toLowerCase), z.success, a fractional multipleOf, a u regex', () => {
    const schema = z.object({
      short: z.string().trim().max(3),
      lower: z.string().toLowerCase().regex(/^[a-z]+$/),
      ok: z.success(z.string()).optional(),
      price: z.number().multipleOf(0.1),
      count: z.number().multipleOf(2),
      emoji: z.emoji().optional(),
    })
    const props = jsonSchema(schema).properties as Record<string, Record<string, unknown>>
    assert.deepEqual(props.short, {})
    assert.deepEqual(props.lower, {})
    assert.deepEqual(props.ok, {})
    assert.deepEqual(props.price, { type: 'number' })
    assert.deepEqual(props.count, { type: 'number', multipleOf: 2 })
    assert.equal(props.emoji!.pattern, undefined)
    const value = { short: '  ab  ', lower: 'ABC', ok: 'x', price: 0.3, count: 4, emoji: '😀' }
    assert.ok(schema.safeParse(value).success)
    assert.ok(accepts(schema, value))
  })

  void it('a recursive schema is a $ref', () => {
    const Tree: z.ZodType = z.object({ name: z.string(), get children() {
      return z.array(Tree).optional()
    } })
    assert.ok(accepts(Tree, { name: 'a', children: [{ name: 'b', children: [] }] }))
    assert.ok(!accepts(Tree, { name: 'a', children: [{ name: 2 }] }))
  })
})

void describe('attachmentsJsonSchema: other schemas', () => {
  const validate = (value: unknown) => ({ value })

  void it('uses a library\'s Standard JSON Schema converter, asking for draft 2020-12 of the input', () => {
    const asked: unknown[] = []
    const schema = {
      '~standard': {
        version: 1 as const,
        vendor: 'valibot',
        validate,
        jsonSchema: {
          input: (options: unknown) => {
            asked.push(options)
            return { type: 'object', properties: { a: { type: 'string' } } }
          },
          output: () => ({}),
        },
      },
    }
    assert.deepEqual(attachmentsJsonSchema(schema), { ok: true, schema: { type: 'object', properties: { a: { type: 'string' } } } })
    assert.deepEqual(asked, [{ target: 'draft-2020-12' }], 'zod-only library options are not passed to others')
  })

  void it('a converter that throws, a schema without one, and a non-object result are no schema, with a reason', () => {
    const throwing = { '~standard': { version: 1 as const, vendor: 'arktype', validate, jsonSchema: { input: () => { throw new Error('morph not convertible') }, output: () => ({}) } } }
    const none = { '~standard': { version: 1 as const, vendor: 'handmade', validate } }
    const odd = { '~standard': { version: 1 as const, vendor: 'odd', validate, jsonSchema: { input: () => true, output: () => true } } }
    const results = [throwing, none, odd].map((s) => attachmentsJsonSchema(s))
    assert.deepEqual(results.map((r) => r.ok), [false, false, false])
    assert.match(results[0]!.ok ? '' : results[0]!.reason, /morph not convertible/)
    assert.match(results[1]!.ok ? '' : results[1]!.reason, /handmade.*Standard JSON Schema/)
  })

  void it('a zod 4 schema without the Standard JSON Schema interface (zod < 4.2) goes through z.toJSONSchema', () => {
    const real = z.object({ a: z.number().default(1), b: z.custom<string>((v) => typeof v === 'string') })
    const { jsonSchema: _dropped, ...standard } = real['~standard']
    const older = Object.create(real, { '~standard': { value: standard } }) as StandardSchemaV1
    const js = jsonSchema(older)
    assert.deepEqual(js.properties, { a: { type: 'number', default: 1 }, b: {} })
    assert.deepEqual(js.required, ['b'])
  })
})
