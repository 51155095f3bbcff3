// The YAML TaskWorkers file of edge and single_process Skalds (wire §7.2), in Skalds' format. Read only: unlike
// Python (which rewrites it in place and loses comments), we never write the user's file.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { isAlias, isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml'
import { ConfigFileError } from './errors.ts'

/** One entry under `TaskWorkers`. */
export interface TaskWorkerEntry {
  /** the entry's key: the task id (and, as in Skalds, its name) */
  taskId: string
  /** the worker class to run */
  className: string
  /** the worker's parameters; `{}` when absent or null */
  attachments: Record<string, unknown>
  /** default true; only read in single_process mode */
  isPersistent: boolean
  /** 1-based line of the entry's key */
  line: number
}

export interface ParseTaskWorkersOptions {
  /** called for what Skalds would silently ignore (an unknown field in an entry), so a typo does not go unseen */
  onWarning?: (message: string) => void
}

/** A TaskWorkers file that cannot be used; the message reads `<file>:<line>: <field>: <reason>`. */
export class TaskWorkersFileError extends ConfigFileError {
  readonly file: string
  /** 1-based; 0 when the file could not be read at all */
  readonly line: number
  /** dotted path, e.g. `TaskWorkers.cam-1.className`; empty for a syntax error */
  readonly field: string
  readonly reason: string
  constructor(file: string, line: number, field: string, reason: string, options?: ErrorOptions) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${reason}`, options)
    this.file = file
    this.line = line
    this.field = field
    this.reason = reason
  }
}

const ENTRY_FIELDS = ['className', 'attachments', 'isPersistent'] as const

// Value checks; positions come from the YAML nodes, so zod sees one field at a time.
const className = z.string({ error: 'must be a string' }).min(1, 'must not be empty')
const isPersistent = z.boolean({ error: 'must be a boolean (true or false)' })

/**
 * Parses the text of a TaskWorkers file. `file` is the name used in error messages.
 * @throws TaskWorkersFileError naming file, line and field: a YAML syntax error, a missing or non-mapping
 * `TaskWorkers`, an entry that is not a mapping, a missing or non-string `className`, `attachments` that is not a
 * mapping, `isPersistent` that is not a boolean, a duplicate task id (or any duplicate key)
 */
export function parseTaskWorkersYaml(text: string, file: string, options: ParseTaskWorkersOptions = {}): TaskWorkerEntry[] {
  const lines = new LineCounter()
  // Duplicate keys are checked below, so the message can name the task id and the first definition.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: true })
  const lineOf = (node: Node | null | undefined, fallback = 1): number => (node?.range ? lines.linePos(node.range[0]).line : fallback)
  const fail = (line: number, field: string, reason: string): never => {
    throw new TaskWorkersFileError(file, line, field, reason)
  }

  const syntax = doc.errors[0]
  if (syntax) fail(syntax.linePos?.[0].line ?? 1, '', `invalid YAML: ${syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`)

  const root = deref(doc, doc.contents)
  if (root === null || (isScalar(root) && root.value === null)) fail(1, 'TaskWorkers', 'required (the file is empty)')
  if (!isMap(root)) return fail(lineOf(root), '(root)', 'must be a mapping with a TaskWorkers key')
  checkUniqueKeys(doc, root, '', lineOf, fail)

  const top = root.items.find((pair) => keyText(pair.key) === 'TaskWorkers')
  if (!top) return fail(lineOf(root), 'TaskWorkers', 'required')
  const workers = deref(doc, top.value as Node | null)
  if (workers === null || (isScalar(workers) && workers.value === null)) return []
  if (!isMap(workers)) return fail(lineOf(workers, lineOf(top.key as Node)), 'TaskWorkers', 'must be a mapping of task id to entry')

  return workers.items.map((pair): TaskWorkerEntry => {
    const keyNode = pair.key as Node | null
    const line = lineOf(keyNode)
    const taskId = keyText(keyNode)
    if (!taskId) fail(line, 'TaskWorkers', 'a task id must be a non-empty string')
    const field = `TaskWorkers.${taskId}`
    const entry = deref(doc, pair.value as Node | null)
    if (!isMap(entry)) return fail(lineOf(entry, line), field, 'must be a mapping with className (and optional attachments, isPersistent)')

    const get = (name: string): Node | null | undefined => {
      const found = entry.items.find((p) => keyText(p.key) === name)
      return found ? deref(doc, found.value as Node | null) : undefined
    }
    for (const p of entry.items) {
      const name = keyText(p.key)
      if (!(ENTRY_FIELDS as readonly string[]).includes(name ?? '')) {
        options.onWarning?.(`${file}:${lineOf(p.key as Node)}: ${field}.${name ?? '?'}: unknown field, ignored (known: ${ENTRY_FIELDS.join(', ')})`)
      }
    }

    const classNode = get('className')
    if (classNode === undefined) fail(line, `${field}.className`, 'required')
    const cls = className.safeParse(scalarValue(classNode))
    if (!cls.success) return fail(lineOf(classNode, line), `${field}.className`, cls.error.issues[0]!.message)

    const attachmentsNode = get('attachments')
    let attachments: Record<string, unknown> = {}
    if (attachmentsNode !== undefined && attachmentsNode !== null && !(isScalar(attachmentsNode) && attachmentsNode.value === null)) {
      if (!isMap(attachmentsNode)) return fail(lineOf(attachmentsNode, line), `${field}.attachments`, 'must be a mapping')
      attachments = attachmentsNode.toJSON(doc) as Record<string, unknown>
    }

    const persistentNode = get('isPersistent')
    let persistent = true
    if (persistentNode !== undefined) {
      const r = isPersistent.safeParse(scalarValue(persistentNode))
      if (!r.success) return fail(lineOf(persistentNode, line), `${field}.isPersistent`, r.error.issues[0]!.message)
      persistent = r.data
    }
    return { taskId: taskId!, className: cls.data, attachments, isPersistent: persistent, line }
  })
}

/**
 * Reads and parses a TaskWorkers file; messages name the path as given.
 * @throws TaskWorkersFileError when the file cannot be read or is invalid (see {@link parseTaskWorkersYaml})
 */
export function readTaskWorkersFile(path: string, options: ParseTaskWorkersOptions = {}): TaskWorkerEntry[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new TaskWorkersFileError(path, 0, '', `cannot read: ${(error as Error).message}`, { cause: error })
  }
  return parseTaskWorkersYaml(text, path, options)
}

function deref(doc: Document, node: Node | null | undefined): Node | null {
  if (node === undefined || node === null) return null
  return isAlias(node) ? ((node.resolve(doc) as Node | undefined) ?? null) : node
}

/** A key as text: plain scalars keep their source spelling (`007` stays `007`, not 7). */
function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined
  if (typeof key.value === 'string') return key.value
  if (key.value === null) return undefined
  return key.source ?? JSON.stringify(key.value)
}

function scalarValue(node: Node | null | undefined): unknown {
  if (node === null || node === undefined) return null
  return isScalar(node) ? node.value : isMap(node) ? {} : []
}

/** Every mapping in the document has unique keys; the message names the path and the first definition. */
function checkUniqueKeys(doc: Document, map: YAMLMap, path: string, lineOf: (n: Node | null | undefined) => number, fail: (line: number, field: string, reason: string) => never): void {
  const seen = new Map<string, number>()
  for (const pair of map.items) {
    const name = keyText(pair.key) ?? String((pair.key as { value?: unknown } | null)?.value)
    const line = lineOf(pair.key as Node)
    const field = path ? `${path}.${name}` : name
    const first = seen.get(name)
    if (first !== undefined) {
      fail(line, field, `${path === 'TaskWorkers' ? 'duplicate task id' : 'duplicate key'} (first defined at line ${first})`)
    }
    seen.set(name, line)
    const value = pair.value as Node | null
    // Aliases are not followed: their target is checked where it is defined.
    if (isMap(value)) checkUniqueKeys(doc, value, field, lineOf, fail)
  }
}
