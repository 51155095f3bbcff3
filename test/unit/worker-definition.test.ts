// defineWorker: defaults, validation messages naming the field, the brand, and attachment typing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { defineWorker, isWorkerDefinition, type WorkerContext } from '../../src/worker/index.ts'

const schema = z.object({ rtspUrl: z.string(), fixFrame: z.number() })

void describe('defineWorker', () => {
  void it('fills the defaults and freezes the definition', () => {
    const def = defineWorker({ className: 'A', attachments: schema, main: () => {} })
    assert.equal(def.isolation, 'process')
    assert.equal(def.freeze, false)
    assert.equal(def.kind, 'skalds-worker')
    assert.ok(Object.isFrozen(def))
    assert.ok(isWorkerDefinition(def))
    assert.ok(!isWorkerDefinition({ ...def, main: 1 }))
    assert.ok(!isWorkerDefinition({ className: 'A', main: () => {} }))
  })

  void it('types hooks from the schema and the state factory', () => {
    const def = defineWorker({
      className: 'Typed',
      attachments: schema,
      state: () => ({ frames: 0 }),
      main: (ctx) => {
        const url: string = ctx.attachments.rtspUrl
        ctx.state.frames += ctx.attachments.fixFrame
        return url
      },
      update: (ctx, next) => {
        const frame: number = next.fixFrame
        return frame + ctx.state.frames
      },
    })
    const ctxType: WorkerContext<{ rtspUrl: string; fixFrame: number }, { frames: number }> | undefined = undefined
    assert.equal(ctxType, undefined)
    assert.equal(def.className, 'Typed')
  })

  void it('names the offending field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ attachments: schema, main: () => {} }, /className: must be a string/],
      [{ className: ' A', attachments: schema, main: () => {} }, /className: must not start or end with whitespace/],
      [{ className: 'A', attachments: {}, main: () => {} }, /attachments: must be a Standard Schema v1/],
      [{ className: 'A', attachments: schema }, /main: must be a function/],
      [{ className: 'A', attachments: schema, main: () => {}, update: 'no' }, /update: must be a function/],
      [{ className: 'A', attachments: schema, main: () => {}, isolation: 'fiber' }, /isolation: must be one of process, thread, inline/],
      [{ className: 'A', attachments: schema, main: () => {}, freeze: true, isolation: 'thread' }, /freeze: needs isolation 'process', not 'thread'/],
    ]
    for (const [input, message] of cases) {
      assert.throws(() => defineWorker(input as never), { code: 'E_WORKER_DEFINITION', message })
    }
  })

  void it('accepts any Standard Schema v1, not only zod', () => {
    const custom = {
      '~standard': {
        version: 1 as const,
        vendor: 'hand-made',
        types: undefined as unknown as { input: unknown; output: { x?: number } },
        validate: (value: unknown) => (typeof value === 'object' && value !== null ? { value: value as { x?: number } } : { issues: [{ message: 'expected an object' }] }),
      },
    }
    const def = defineWorker({ className: 'Custom', attachments: custom, main: (ctx) => ctx.attachments.x })
    assert.ok(isWorkerDefinition(def))
  })
})
