// `skalds:{id}:ts:classes`: the attachments JSON Schema of each class a node runs, for a controller to check tasks
// before storing them. The schemas change only when the node registers them, so the key is written then and only
// kept alive by the ticks (a PEXPIRE, which also says whether it is still there): a tick stays cheap however large
// the schemas, and the key comes back at the next tick after it expired or was deleted (Python's cleanup of
// `skalds:{id}:*`).
import type { JsonObject } from '../model/task-runtime.ts'
import { isPlainObject } from '../model/wire-values.ts'
import type { ApplyResult, StateOp } from './backend.ts'
import { skaldClassesKey } from './keys.ts'

/** One class as a node published it. */
export interface PublishedClassSchema {
  /** the input JSON Schema (draft 2020-12) of the class's attachments; null: none that JSON Schema can state */
  attachments: JsonObject | null
  /** epoch ms the node first published this schema: of two nodes that differ, the newer one wins */
  timestamp: number
}

/** className → schema, as the reader returns it. */
export type SkaldClassSchemas = Record<string, PublishedClassSchema>

/** The stored value: `{"<className>":{"attachments":<json schema>|null,"timestamp":ms}}`. */
export function parseClassSchemas(text: string | undefined): SkaldClassSchemas | undefined {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isPlainObject(value)) return undefined
  const out: SkaldClassSchemas = {}
  for (const [name, entry] of Object.entries(value)) {
    if (!isPlainObject(entry)) continue
    const attachments = isPlainObject(entry.attachments) ? (entry.attachments as JsonObject) : null
    out[name] = { attachments, timestamp: typeof entry.timestamp === 'number' ? entry.timestamp : 0 }
  }
  return out
}

/** The op a writer added to one apply; hand it back to {@link ClassSchemasWriter.settle} with the apply's result. */
export interface ClassSchemasOp {
  readonly seq: number
  readonly index: number
  readonly op: 'set' | 'touch' | 'del'
  readonly text: string | undefined
}

/**
 * What the publisher writes of the key, tick after tick. Without schemas it deletes the key once (one left by an
 * earlier process with this id would describe other code); with schemas it writes them when they changed or went
 * missing, and only touches them otherwise.
 */
export class ClassSchemasWriter {
  readonly #keyTtlMs: number
  /** the value to publish; undefined = none */
  #text: string | undefined
  #stampedOf: string | undefined
  /** what the key holds as far as this writer knows: the text written, null = absent, undefined = unknown */
  #known: string | null | undefined
  #seq = 0
  /** the newest apply settled: applies go out (and are applied) in order, so an older one settling later is stale */
  #settledSeq = 0

  constructor(keyTtlMs: number) {
    this.#keyTtlMs = keyTtlMs
  }

  /** The schemas to publish from now on; undefined = none (the key is deleted). Timestamps change with the content only. */
  update(schemas: Readonly<Record<string, JsonObject | null>> | undefined, now: number): void {
    if (schemas === undefined) {
      this.#text = this.#stampedOf = undefined
      return
    }
    const content = JSON.stringify(schemas)
    if (content === this.#stampedOf) return
    this.#stampedOf = content
    const stamped = Object.fromEntries(Object.entries(schemas).map(([name, attachments]) => [name, { attachments, timestamp: Math.trunc(now) }]))
    this.#text = JSON.stringify(stamped)
  }

  /** Appends the op for `skaldId` to `ops` (none when there is nothing to do). */
  appendTo(ops: StateOp[], skaldId: string): ClassSchemasOp | undefined {
    const key = skaldClassesKey(skaldId)
    const text = this.#text
    const at = { seq: ++this.#seq, index: ops.length, text }
    if (text === undefined) {
      if (this.#known === null) return undefined
      ops.push({ op: 'del', key })
      return { ...at, op: 'del' }
    }
    if (this.#known !== text) {
      ops.push({ op: 'set', key, value: text, ttlMs: this.#keyTtlMs })
      return { ...at, op: 'set' }
    }
    ops.push({ op: 'touch', key, ttlMs: this.#keyTtlMs })
    return { ...at, op: 'touch' }
  }

  /**
   * Records what an apply did; true when the key turned out to be missing and should be written at once (another
   * apply with {@link appendTo}). An apply that failed is never settled: the next tick sends the op again.
   */
  settle(op: ClassSchemasOp | undefined, result: ApplyResult): boolean {
    if (!op || op.seq < this.#settledSeq) return false
    this.#settledSeq = op.seq
    if (op.op === 'del') this.#known = null
    else if (op.op === 'set') this.#known = op.text
    else if (result.missingTouches.includes(op.index)) {
      this.#known = undefined
      return true
    }
    return false
  }
}
