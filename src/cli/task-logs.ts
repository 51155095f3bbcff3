// `skalds task logs <id> [--follow]`: the run's newest lines from the REST API, then (with --follow) the task's live
// events over SSE until the task ends. The `eventsource` package is the SSE client: it parses the stream as the
// spec says and reconnects by itself with Last-Event-ID, so a follow survives a controller restart; its `fetch`
// hook carries the bearer token, which a browser-style EventSource cannot send.
import type { CliOptions } from './config.ts'
import type { ControllerClient } from './client.ts'
import { clientFrom, unreachable } from './client.ts'
import { intFlag } from './config.ts'
import { startProgress } from './progress.ts'

type Opts = CliOptions
const TERMINAL = new Set(['Finished', 'Failed', 'Cancelled'])
const KEEP = 1000

/** The lines of `incoming` after the longest prefix of it that ends what was printed (`tail`); all when none does. */
export function unseen(tail: readonly string[], incoming: readonly string[]): string[] {
  for (let k = Math.min(tail.length, incoming.length); k > 0; k--) {
    let same = true
    for (let i = 0; i < k && same; i++) same = tail[tail.length - k + i] === incoming[i]
    if (same) return incoming.slice(k)
  }
  return [...incoming]
}

/**
 * A log line for reading. The node keeps `[source] text` lines; a pino JSON line of the task's logger becomes
 * `HH:MM:SS level message`, other sources (stdout, stderr) keep their tag.
 */
export function formatLogLine(line: string): string {
  const tagged = /^\[([\w-]+)\] (.*)$/s.exec(line)
  const source = tagged?.[1]
  const text = tagged ? tagged[2]! : line
  try {
    const p = JSON.parse(text) as { time?: unknown; level?: unknown; msg?: unknown }
    if (typeof p === 'object' && p !== null && typeof p.msg === 'string') {
      const at = typeof p.time === 'number' ? `${new Date(p.time).toISOString().slice(11, 19)} ` : ''
      const level = typeof p.level === 'number' ? (LEVELS[p.level] ?? String(p.level)) : typeof p.level === 'string' ? p.level : ''
      return `${at}${level ? `${level.padEnd(5)} ` : ''}${source && source !== 'logger' ? `[${source}] ` : ''}${p.msg}`
    }
  } catch {
    // not JSON
  }
  return source && source !== 'logger' ? `[${source}] ${text}` : text
}
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

export async function taskLogs(opts: Opts, [id]: string[]): Promise<void> {
  const client = clientFrom(opts)
  const limit = intFlag('--lines', opts.lines, 1, 1000)!
  const json = Boolean(opts.json)
  const tail: string[] = []
  const print = (lines: readonly string[]): void => {
    for (const line of lines) process.stdout.write(`${json ? JSON.stringify({ taskId: id, line }) : formatLogLine(line)}\n`)
    tail.push(...lines)
    if (tail.length > KEEP) tail.splice(0, tail.length - KEEP)
  }
  const path = `/api/tasks/${encodeURIComponent(id!)}`
  const catchUp = async (): Promise<void> => {
    const log = await client.request<{ lines: string[] }>('GET', `${path}/log?limit=${limit}`)
    print(unseen(tail, log.lines))
  }
  const status = async (): Promise<string> => (await client.request<{ lifecycleStatus: string }>('GET', path)).lifecycleStatus

  const first = await status()
  await catchUp()
  if (!opts.follow) return
  if (TERMINAL.has(first)) return end(first)
  end(await follow(client, id!, { catchUp, status, onLines: (lines, fresh) => print(fresh ? unseen(tail, lines) : lines) }))
}

/** Sets the exit code of a follow: 0 when the task finished, 1 when it failed or was cancelled. */
function end(status: string): void {
  process.stderr.write(`task ended: ${status}\n`)
  if (status !== 'Finished') process.exitCode = 1
}

interface FollowHooks {
  /** prints what the REST log holds that was not printed yet */
  catchUp(): Promise<void>
  status(): Promise<string>
  /** `fresh`: the first lines after a (re)connection, which may repeat printed ones */
  onLines(lines: readonly string[], fresh: boolean): void
}

/** Streams the task's events until it reaches a terminal status; resolves with that status. */
async function follow(client: ControllerClient, id: string, hooks: FollowHooks): Promise<string> {
  const { EventSource } = await import('eventsource')
  const url = `${client.url}/api/events/tasks?task_id=${encodeURIComponent(id)}`
  const progress = startProgress(`following ${id} (waiting for log lines)`)
  const headers: Record<string, string> = client.token ? { authorization: `Bearer ${client.token}` } : {}
  const source = new EventSource(url, { fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }) })
  let everOpen = false
  let catchingUp = Promise.resolve()
  // A new connection, or a resync, may repeat lines the REST catch-up printed: the first event after it is deduplicated.
  let fresh = true
  return new Promise<string>((resolve, reject) => {
    let done = false
    const finish = (result: string | Error): void => {
      if (done) return
      done = true
      clearInterval(poll)
      source.close()
      progress.stop()
      if (typeof result === 'string') resolve(result)
      else reject(result)
    }
    const settle = (): void => {
      // the last lines may trail the status change by a tick of the controller's sources
      setTimeout(() => void hooks.catchUp().then(() => hooks.status()).then(finish, finish), 1500)
    }
    const check = (): void =>
      void hooks.status().then(
        (s) => TERMINAL.has(s) && settle(),
        () => {}, // the controller may be restarting: EventSource reconnects, the next poll asks again
      )
    const poll = setInterval(check, 5000)
    source.onopen = () => {
      everOpen = true
      fresh = true
      progress.update(`following ${id}`)
      catchingUp = hooks.catchUp().catch(() => {})
      check()
    }
    source.onmessage = (message) => {
      let event: { type?: string; data?: { lines?: unknown; lifecycleStatus?: unknown } }
      try {
        event = JSON.parse(String(message.data)) as typeof event
      } catch {
        return
      }
      if (event.type === 'task_log' && Array.isArray(event.data?.lines)) {
        const lines = event.data.lines.map(String)
        void catchingUp.then(() => {
          progress.stop()
          hooks.onLines(lines, fresh)
          fresh = false
        })
      } else if (event.type === 'task_status' && TERMINAL.has(String(event.data?.lifecycleStatus))) {
        settle()
      } else if (event.type === 'resync') {
        fresh = true
        catchingUp = hooks.catchUp().catch(() => {})
      }
    }
    source.onerror = (error) => {
      // an HTTP refusal closes the source; a dropped connection is retried by EventSource itself
      if (source.readyState === source.CLOSED) finish(error.code ? new Error(`the controller refused the event stream: HTTP ${error.code} ${error.message ?? ''}`.trim()) : unreachable(client.url, error))
      else if (!everOpen) progress.update(`following ${id} (connecting to ${client.url})`)
      else progress.update(`following ${id} (reconnecting to ${client.url})`)
    }
  })
}
