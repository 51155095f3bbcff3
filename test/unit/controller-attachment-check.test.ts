// AttachmentCheck: which published schema a class is checked with (online nodes that have the class, the newest),
// what a refusal says (`attachments.<path>` fields), and that nothing it cannot use ever refuses a task.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { z } from 'zod'
import type { Logger } from '../../src/config/logger.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { AttachmentCheck, AttachmentsInvalidError } from '../../src/controller/attachment-check.ts'
import type { NodeView } from '../../src/controller/node-monitor.ts'
import { nodeView } from '../helpers/node-view.ts'
import type { JsonObject } from '../../src/model/task-runtime.ts'
import type { SkaldClassSchemas } from '../../src/state/class-schemas.ts'
import { attachmentsJsonSchema } from '../../src/worker/attachments-json-schema.ts'

function jsonSchemaOf(schema: z.ZodType): JsonObject {
  const result = attachmentsJsonSchema(schema)
  assert.ok(result.ok)
  return result.schema
}

const checkpointing = jsonSchemaOf(z.object({ until: z.number().int().min(1), stepMs: z.number().int().min(0).default(20) }))
const camera = jsonSchemaOf(
  z.strictObject({
    url: z.string(),
    zones: z.array(z.object({ name: z.string(), 'a/b': z.number().optional() })).max(3),
    mode: z.union([z.literal('fast'), z.literal('slow')]),
  }),
)

function node(id: string, classSchemas: SkaldClassSchemas | undefined, extra: Partial<NodeView> = {}): NodeView {
  return nodeView(id, { classNames: Object.keys(classSchemas ?? {}), classSchemas, ...extra })
}

function refusal(check: AttachmentCheck, className: string, attachments: unknown): AttachmentsInvalidError {
  try {
    check.check(className, attachments)
  } catch (error) {
    assert.ok(error instanceof AttachmentsInvalidError, String(error))
    return error
  }
  assert.fail(`${JSON.stringify(attachments)} passed`)
}

void describe('AttachmentCheck: which schema', () => {
  void it('an online node that has the class; the newest when several differ; none, offline or null → no check', () => {
    const older = { type: 'object', required: ['a'] }
    const newer = { type: 'object', required: ['b'] }
    let nodes: NodeView[] = [
      node('old', { W: { attachments: older, timestamp: 100 } }),
      node('new', { W: { attachments: newer, timestamp: 200 } }),
      node('python', undefined, { classNames: ['W'] }),
      node('gone', { W: { attachments: { type: 'object', required: ['c'] }, timestamp: 300 } }, { online: false }),
      // published for a class it no longer lists: not a node that has the class
      node('stale', { W: { attachments: { type: 'object', required: ['d'] }, timestamp: 400 } }, { classNames: [] }),
    ]
    const check = new AttachmentCheck({ nodes: () => nodes, logger: silentLogger })
    assert.deepEqual(check.schemaFor('W'), newer)
    assert.equal(check.schemaFor('Other'), undefined)
    assert.equal(check.check('Other', { anything: true }), false, 'no node has the class: stored unchecked')
    nodes = [...nodes, node('newest', { W: { attachments: null, timestamp: 500 } })]
    assert.equal(check.schemaFor('W'), undefined, 'the newest code has no JSON Schema: no check')
    nodes = [node('python', undefined, { classNames: ['W'] })]
    assert.equal(check.check('W', { x: 1 }), false, 'nothing published: no check')
  })
})

void describe('AttachmentCheck: refusals', () => {
  const check = new AttachmentCheck({ nodes: () => [node('n', { CheckpointingWorker: { attachments: checkpointing, timestamp: 1 }, Camera: { attachments: camera, timestamp: 1 } })], logger: silentLogger })

  void it('passes what matches: a default left out, an unknown key (zod strips it, it does not refuse it)', () => {
    assert.equal(check.check('CheckpointingWorker', { until: 3 }), true)
    assert.equal(check.check('CheckpointingWorker', { until: 3, stepMs: 0, extra: 'kept' }), true)
  })

  void it('names each field: a bound, a type, a missing key, an unknown key, nested and array paths', () => {
    let error = refusal(check, 'CheckpointingWorker', { until: 0 })
    assert.equal(error.code, 'E_ATTACHMENTS_INVALID')
    assert.equal(error.className, 'CheckpointingWorker')
    assert.deepEqual(error.issues, [{ field: 'attachments.until', reason: 'must be >= 1' }])
    assert.match(error.message, /class "CheckpointingWorker": attachments\.until: must be >= 1$/)
    error = refusal(check, 'CheckpointingWorker', { until: 'x', stepMs: -1 })
    assert.deepEqual(error.issues.map((i) => i.field), ['attachments.until', 'attachments.stepMs'])
    assert.match(error.message, /\(and 1 more\)$/)
    assert.deepEqual(refusal(check, 'CheckpointingWorker', undefined).issues, [{ field: 'attachments.until', reason: 'is required' }], 'none = {}')
    assert.deepEqual(refusal(check, 'CheckpointingWorker', null).issues, [{ field: 'attachments.until', reason: 'is required' }])
    error = refusal(check, 'Camera', { url: 'rtsp://x', zones: [{ name: 'a' }, { name: 2, 'a/b': 'x' }], mode: 'medium', colour: 'red' })
    const fields = error.issues.map((i) => i.field)
    assert.ok(fields.includes('attachments.zones.1.name'), fields.join())
    assert.ok(fields.includes('attachments.zones.1.a/b'), 'a JSON pointer ~1 is a slash again')
    assert.ok(fields.includes('attachments.mode'))
    assert.ok(error.issues.some((i) => i.field === 'attachments.colour' && i.reason === 'is not allowed'))
    assert.equal(new Set(error.issues.map((i) => `${i.field} ${i.reason}`)).size, error.issues.length, 'no repeats')
  })
})

void describe('AttachmentCheck: compiling', () => {
  void it('a schema Ajv cannot compile checks nothing, is said once while cached, and the cache is bounded', () => {
    const warnings: string[] = []
    const logger: Logger = { ...silentLogger, warn: (_obj: unknown, msg?: string) => void warnings.push(msg ?? '') }
    const bad1 = { type: 'object', properties: { a: { type: 'string', pattern: '(' } } }
    const bad2 = { type: 'object', properties: { b: { type: 'string', pattern: '[' } } }
    let current: JsonObject = bad1
    const check = new AttachmentCheck({ nodes: () => [node('n', { W: { attachments: current, timestamp: 1 } })], logger, cacheSize: 1 })
    assert.equal(check.check('W', { a: 1 }), false)
    assert.equal(check.check('W', { a: 1 }), false)
    assert.equal(warnings.length, 1, 'cached: said once')
    current = bad2
    assert.equal(check.check('W', {}), false)
    current = bad1
    assert.equal(check.check('W', {}), false)
    assert.equal(warnings.length, 3, 'a cache of one: bad1 was evicted by bad2 and compiled again')
  })

  void it('two nodes\' schemas with the same $id both compile', () => {
    let schema: JsonObject = { $id: 'https://example.com/w', type: 'object', required: ['a'] }
    const check = new AttachmentCheck({ nodes: () => [node('n', { W: { attachments: schema, timestamp: 1 } })], logger: silentLogger })
    assert.throws(() => check.check('W', {}), AttachmentsInvalidError)
    schema = { $id: 'https://example.com/w', type: 'object', required: ['b'] }
    assert.deepEqual(refusal(check, 'W', { a: 1 }).issues, [{ field: 'attachments.b', reason: 'is required' }])
  })
})

void describe('AttachmentCheck: never stricter than the worker', () => {
  void it('property: whatever the zod schema accepts (JSON in, as attachments arrive), the check lets through', () => {
    const schema = z.object({
      n: z.number().int().min(0).max(5).default(1),
      s: z.string().min(2).max(3).optional(),
      two: z.string().regex(/^.{2}$/).optional(),
      e: z.enum(['x', 'y']).nullable().optional(),
      u: z.union([z.number(), z.string().regex(/^q/i)]).optional(),
      c: z.coerce.boolean().optional(),
      k: z.number().catch(0),
      t: z.string().trim().max(2).optional(),
      p: z.number().multipleOf(0.1).optional(),
      a: z.array(z.object({ v: z.literal(1) })).max(2).optional(),
    })
    const check = new AttachmentCheck({ nodes: () => [node('n', { W: { attachments: jsonSchemaOf(schema), timestamp: 1 } })], logger: silentLogger })
    const passes = (value: unknown): boolean => {
      try {
        return check.check('W', value)
      } catch (error) {
        if (error instanceof AttachmentsInvalidError) return false
        throw error
      }
    }
    // strings with astral characters: zod counts lengths in code points, and tests unflagged regexes per UTF-16 unit
    const text = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', 'Q', ' ', '😀', 'é'), maxLength })
    // mostly values zod accepts, so that the property is tried on many of them; the rest anything near
    const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: other, weight: 1 })
    const value = fc.record(
      {
        n: mostly(fc.integer({ min: 0, max: 5 }), fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constant('1'))),
        s: mostly(text(3), text(5)),
        two: mostly(fc.constantFrom('ab', '😀', 'é '), text(3)),
        e: fc.constantFrom('x', 'y', 'z', null),
        u: mostly(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('q', 'Q😀')), text(3)),
        c: fc.oneof(fc.boolean(), fc.string(), fc.integer()),
        k: fc.jsonValue({ maxDepth: 1 }),
        t: mostly(fc.constantFrom('  ab  ', 'Q', ' 😀 '), text(5)),
        p: mostly(fc.integer({ min: -30, max: 30 }).map((i) => i / 10), fc.double({ noNaN: true, noDefaultInfinity: true })),
        a: mostly(fc.array(fc.constant({ v: 1 }), { maxLength: 2 }), fc.array(fc.record({ v: fc.constantFrom(1, 2) }), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    )
    let accepted = 0
    fc.assert(
      fc.property(value, (v) => {
        const json = JSON.parse(JSON.stringify(v)) as unknown
        if (!schema.safeParse(json).success) return
        accepted++
        assert.ok(passes(json), `zod accepts ${JSON.stringify(json)}; the check refused it`)
      }),
      { numRuns: 3000 },
    )
    assert.ok(accepted > 300, `only ${accepted} values zod accepts: the generator misses the point`)
  })
})
