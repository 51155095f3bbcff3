// `skalds task create|list|get|update|pause|resume|cancel|retry`: one API call each (docs/api.md, /api/tasks),
// printed as a table or a `key value` block, or as the API's JSON with `--json`.
import type { CliOptions } from './config.ts'
import { readFileSync } from 'node:fs'
import { clientFrom } from './client.ts'
import { intFlag } from './config.ts'
import { usageError } from './errors.ts'
import { cell, keyValues, printJson, table, time } from './output.ts'

type Opts = CliOptions

/** The fields of the API's Task the CLI shows. */
export interface TaskView {
  id: string
  className: string
  lifecycleStatus: string
  executor: string | null
  createDateTime: number
  updateDateTime: number
  mode: string
  attachments: unknown
  heartbeat: number
  error: string | null
  exception: string | null
  priority: number
  name: string | null
  dependencies: string[] | null
  deadlineDateTime: number
  runtime: { epoch: number; attempt: number; maxRetries: number | null; lastError: string | null; hasCheckpoint: boolean }
}

/** `--attachments JSON` or `--attachments-file FILE` (`-` = stdin): a JSON object, or a usage error naming the flag. */
export function readAttachments(opts: Opts, required: boolean): Record<string, unknown> | undefined {
  if (opts.attachments !== undefined && opts.attachmentsFile !== undefined) throw usageError('give --attachments or --attachments-file, not both')
  let text: string
  let flag: string
  if (opts.attachments !== undefined) {
    text = String(opts.attachments)
    flag = '--attachments'
  } else if (opts.attachmentsFile !== undefined) {
    const file = String(opts.attachmentsFile)
    flag = `--attachments-file ${file}`
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8')
    } catch (error) {
      throw usageError(`${flag}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  } else {
    if (required) throw usageError('give the attachments: --attachments JSON or --attachments-file FILE')
    return undefined
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw usageError(`${flag}: not valid JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError(`${flag}: must be a JSON object ({"key": value, …})`)
  return value as Record<string, unknown>
}

/** `--deadline`: an ISO date, epoch ms, or a delay from now (`30s`, `10m`, `2h`, `1d`). */
export function parseDeadline(value: string, now = Date.now()): number {
  const delay = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim())
  if (delay) return now + Number(delay[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[delay[2] as 'ms']
  if (/^\d{10,}$/.test(value)) return Number(value)
  const parsed = Date.parse(value)
  if (Number.isNaN(parsed)) throw usageError(`--deadline: expected an ISO date, epoch ms or a delay like 30s, 10m, 2h (got ${JSON.stringify(value)})`)
  return parsed
}

export async function createTask(opts: Opts): Promise<void> {
  const client = clientFrom(opts)
  const attachments = readAttachments(opts, false)
  const priority = intFlag('--priority', opts.priority, 0, 10)
  const maxRetries = intFlag('--max-retries', opts.maxRetries, 0, 1000)
  const body: Record<string, unknown> = { className: String(opts.class) }
  if (opts.id !== undefined) body.id = String(opts.id)
  if (opts.name !== undefined) body.name = String(opts.name)
  if (opts.description !== undefined) body.description = String(opts.description)
  if (opts.mode !== undefined) body.mode = String(opts.mode)
  if (attachments !== undefined) body.attachments = attachments
  if (priority !== undefined) body.priority = priority
  if (maxRetries !== undefined) body.maxRetries = maxRetries
  if (opts.dependsOn !== undefined) body.dependencies = opts.dependsOn
  if (opts.deadline !== undefined) body.deadlineDateTime = parseDeadline(String(opts.deadline))
  if (opts.persistent === false) body.isPersistent = false
  const task = await client.request<TaskView>('POST', '/api/tasks/', body)
  if (opts.json) printJson(task)
  else process.stdout.write(`created ${task.id} (${task.className}, ${task.lifecycleStatus})\n`)
}

export async function listTasks(opts: Opts): Promise<void> {
  const client = clientFrom(opts)
  const query = new URLSearchParams()
  query.set('page', String(intFlag('--page', opts.page, 1)))
  query.set('pageSize', String(intFlag('--page-size', opts.pageSize, 1, 100)))
  query.set('sortBy', String(opts.sort))
  query.set('sortOrder', String(opts.order))
  for (const [flag, param] of [['status', 'lifecycleStatus'], ['class', 'className'], ['executor', 'executor'], ['mode', 'mode'], ['search', 'id']] as const) {
    if (opts[flag] !== undefined) query.set(param, String(opts[flag]))
  }
  const page = await client.request<{ items: TaskView[]; total: number; page: number; pageSize: number }>('GET', `/api/tasks/?${query.toString()}`)
  if (opts.json) return printJson(page)
  const rows = page.items.map((t) => [t.id, t.className, t.lifecycleStatus, t.executor, t.priority, t.heartbeat, time(t.createDateTime), t.name])
  process.stdout.write(`${table(['ID', 'CLASS', 'STATUS', 'EXECUTOR', 'PRIO', 'HEARTBEAT', 'CREATED (UTC)', 'NAME'], rows)}\n`)
  const first = page.total === 0 ? 0 : (page.page - 1) * page.pageSize + 1
  const last = Math.min(page.page * page.pageSize, page.total)
  process.stderr.write(`${first}-${last} of ${page.total} (page ${page.page}${last < page.total ? `; next: --page ${page.page + 1}` : ''})\n`)
}

export async function getTask(opts: Opts, [id]: string[]): Promise<void> {
  const client = clientFrom(opts)
  const task = await client.request<TaskView>('GET', `/api/tasks/${encodeURIComponent(id!)}`)
  if (opts.json) return printJson(task)
  process.stdout.write(`${describeTask(task)}\n`)
}

export function describeTask(t: TaskView): string {
  return keyValues([
    ['id', t.id],
    ['name', t.name],
    ['class', t.className],
    ['status', t.lifecycleStatus],
    ['executor', t.executor],
    ['mode', t.mode],
    ['priority', t.priority],
    ['heartbeat', t.heartbeat],
    ['attempt', `${t.runtime.attempt} (epoch ${t.runtime.epoch}, max retries ${cell(t.runtime.maxRetries)})`],
    ['checkpoint', t.runtime.hasCheckpoint ? 'yes' : 'no'],
    ['dependencies', t.dependencies?.length ? t.dependencies.join(', ') : null],
    ['deadline', t.deadlineDateTime > 0 ? time(t.deadlineDateTime) : null],
    ['created', time(t.createDateTime)],
    ['updated', time(t.updateDateTime)],
    ['error', t.error ?? t.runtime.lastError],
    ['exception', t.exception],
    ['attachments', JSON.stringify(t.attachments)],
  ])
}

export async function updateTask(opts: Opts, [id]: string[]): Promise<void> {
  const client = clientFrom(opts)
  const attachments = readAttachments(opts, true)
  const reply = await client.request<{ message: string; data: unknown }>('PUT', `/api/tasks/${encodeURIComponent(id!)}/attachments`, { attachments })
  if (opts.json) return printJson(reply)
  process.stdout.write(`updated ${id}: ${reply.message}\n`)
}

/** pause / resume / retry answer with the Task; cancel with `{success, message, data}`. */
export function commandFor(name: 'pause' | 'resume' | 'cancel' | 'retry') {
  return async (opts: Opts, [id]: string[]): Promise<void> => {
    const client = clientFrom(opts)
    const path = `/api/tasks/${encodeURIComponent(id!)}`
    if (name === 'cancel') {
      const reply = await client.request<{ message: string }>('DELETE', path)
      if (opts.json) return printJson(reply)
      process.stdout.write(`cancelled ${id}\n`)
      return
    }
    const task = await client.request<TaskView>('POST', `${path}/${name}`)
    if (opts.json) return printJson(task)
    process.stdout.write(`${name} ${task.id}: accepted, status now ${task.lifecycleStatus}\n`)
  }
}
