// The controller's check of a task's attachments before it stores them: against the JSON Schema that the online
// nodes having the task's class published (`skalds:{id}:ts:classes`, docs/workers.md), so that a typo is a 400 at
// once rather than a Failed task once a node picked it up. No such node, or no schema published: no check, the task
// is stored as before and its worker validates it when it starts. The published schemas are never stricter than the
// workers' own (src/worker/attachments-json-schema.ts), so this check refuses nothing a worker would take.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import type { Logger } from '../config/logger.ts'
import { SkaldsError } from '../model/errors.ts'
import type { JsonObject } from '../model/task-runtime.ts'
import { isPlainObject } from '../model/wire-values.ts'
import type { NodeView } from './node-monitor.ts'

/** One reason the attachments were refused. */
export interface AttachmentIssue {
  /** `attachments.<path>`: dots, array indexes as numbers (`attachments.zones.1.name`) */
  field: string
  /** Ajv's message, e.g. `must be >= 1`; `is required`, `is not allowed` for a missing or unexpected key */
  reason: string
}

/** A task's attachments do not match the JSON Schema its class's nodes published; an HTTP 400 with the issues as details. */
export class AttachmentsInvalidError extends SkaldsError {
  /** the task's class, whose published schema refused the attachments */
  readonly className: string
  /** every field refused (at most 20), in Ajv's order */
  readonly issues: AttachmentIssue[]
  constructor(className: string, issues: AttachmentIssue[]) {
    const first = issues[0]
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
    super('E_ATTACHMENTS_INVALID', `attachments do not match the schema of class ${JSON.stringify(className)}: ${first ? `${first.field}: ${first.reason}` : 'invalid'}${more}`)
    this.className = className
    this.issues = issues
  }
}

/** What AttachmentCheck needs: where the nodes are seen, and where to say a schema does not compile. */
export interface AttachmentCheckOptions {
  /** the nodes as the controller last saw them (NodeMonitor.nodes) */
  nodes: () => Iterable<NodeView>
  /** compiled validators kept, by schema text; default 256 */
  cacheSize?: number
  /** a published schema that does not compile is said here, once while its validator is cached */
  logger: Logger
}

/** Most issues reported: `allErrors` over a union can list many; the first ones say enough. */
const MAX_ISSUES = 20

type Compiled = { ok: true; schema: JsonObject; validate: ValidateFunction } | { ok: false }

/** Checks a task's attachments against the newest schema its class's online nodes published (TaskCommands uses one). */
export class AttachmentCheck {
  readonly #nodes: () => Iterable<NodeView>
  readonly #cacheSize: number
  readonly #log: Logger
  readonly #ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    // Each library (and Ajv) reads formats its own way; the worker checks them anyway.
    validateFormats: false,
    // Two nodes' schemas may carry the same $id: nothing is registered by id.
    addUsedSchema: false,
    logger: false,
    // Patterns as the workers' JavaScript schemas test theirs (lengths are code points in Ajv, as in zod).
    code: { regExp: javascriptRegExp },
  })
  /** schema text → compiled validator; oldest first (a Map keeps insertion order; a hit moves to the end) */
  readonly #cache = new Map<string, Compiled>()

  constructor(options: AttachmentCheckOptions) {
    this.#nodes = options.nodes
    this.#cacheSize = Math.max(1, options.cacheSize ?? 256)
    this.#log = options.logger
  }

  /**
   * The schema to check `className` with: the one an online node having the class published, the newest when
   * several differ. Undefined when no online node has it, none published one, or the newest is null (no schema).
   */
  schemaFor(className: string): JsonObject | undefined {
    let newest: { attachments: JsonObject | null; timestamp: number } | undefined
    for (const node of this.#nodes()) {
      const published = node.online && node.classNames.includes(className) ? node.classSchemas?.[className] : undefined
      if (published && (!newest || published.timestamp > newest.timestamp)) newest = published
    }
    return newest?.attachments ?? undefined
  }

  /**
   * Checks attachments as the node would hand them to the worker (none = `{}`).
   * @returns whether a schema was found to check them with
   * @throws AttachmentsInvalidError naming every field refused
   */
  check(className: string, attachments: unknown): boolean {
    const schema = this.schemaFor(className)
    if (!schema) return false
    const compiled = this.#compiled(schema)
    if (!compiled.ok) return false
    const value = attachments ?? {}
    if (compiled.validate(value)) return true
    throw new AttachmentsInvalidError(className, issuesOf(compiled.validate.errors ?? []))
  }

  #compiled(schema: JsonObject): Compiled {
    const text = JSON.stringify(schema)
    const cached = this.#cache.get(text)
    if (cached) {
      this.#cache.delete(text)
      this.#cache.set(text, cached)
      return cached
    }
    let compiled: Compiled
    // A private copy: Ajv keeps compiled schemas by object, and this one is dropped from Ajv with the cache entry.
    const own = JSON.parse(text) as JsonObject
    try {
      compiled = { ok: true, schema: own, validate: this.#ajv.compile(own) }
    } catch (error) {
      // A schema Ajv cannot compile (say, a regex only another engine reads) checks nothing; said once per schema.
      this.#log.warn({ err: error }, 'a published attachments schema does not compile; tasks of its class are stored unchecked')
      compiled = { ok: false }
    }
    this.#cache.set(text, compiled)
    while (this.#cache.size > this.#cacheSize) {
      const [oldest, entry] = this.#cache.entries().next().value!
      this.#cache.delete(oldest)
      if (entry.ok) this.#ajv.removeSchema(entry.schema)
    }
    return compiled
  }
}

/**
 * A published pattern as a regex without flags, as zod and other JavaScript libraries test theirs (so `.` is one
 * UTF-16 unit, and `\-` outside a class is valid), unless it uses what only the u flag reads: `\p{…}`, `\u{…}`.
 */
function javascriptRegExp(pattern: string): RegExp {
  return new RegExp(pattern, /\\[pPu]\{/.test(pattern) ? 'u' : '')
}
javascriptRegExp.code = 'new RegExp'

/** Ajv's errors as `attachments.<path>` fields, without repeats, at most {@link MAX_ISSUES}. */
export function issuesOf(errors: readonly ErrorObject[]): AttachmentIssue[] {
  const seen = new Set<string>()
  const issues: AttachmentIssue[] = []
  for (const error of errors) {
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    const params: unknown = error.params
    // A missing or unexpected property is about that property, not about the object holding it.
    if (error.keyword === 'required' && isPlainObject(params) && typeof params.missingProperty === 'string') path.push(params.missingProperty)
    if (error.keyword === 'additionalProperties' && isPlainObject(params) && typeof params.additionalProperty === 'string') path.push(params.additionalProperty)
    const field = ['attachments', ...path].join('.')
    const reason = error.keyword === 'required' ? 'is required' : error.keyword === 'additionalProperties' ? 'is not allowed' : (error.message ?? 'is invalid')
    const key = `${field}\u0000${reason}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push({ field, reason })
    if (issues.length === MAX_ISSUES) break
  }
  return issues
}
