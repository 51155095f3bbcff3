// What the ports of the Python Skalds examples share: their configuration (Skalds' variables, with the values the
// Python example passes to SkaldConfig where neither the environment nor `.env` sets one), how a launcher prints
// the output of the workers it runs, and running one worker on its own (the worker files' `__main__`).
import { readDotenv } from '../src/config/dotenv.ts'
import { loadConfig, type SkaldsConfig } from '../src/config/env.ts'
import type { NodeEvent } from '../src/skald/node-events.ts'
import type { WorkerRef } from '../src/worker/host.ts'
import { ProcessHost } from '../src/worker/hosts.ts'

/**
 * The servers of the Python examples (their `examples/env_setup/docker-compose.yml`): Redis on localhost:6379,
 * Kafka on 127.0.0.1:9092, MongoDB with root/root on localhost:27017. `REDIS_URL`, `KAFKA_BROKERS` and `MONGO_URL`
 * win over these, as everywhere (docs/configuration.md); `SKALDS_BUS=redis-streams` runs without Kafka.
 */
export const PYTHON_EXAMPLE_SERVERS = {
  REDIS_HOST: 'localhost',
  REDIS_PORT: '6379',
  KAFKA_HOST: '127.0.0.1',
  KAFKA_PORT: '9092',
  MONGO_HOST: 'mongodb://root:root@localhost:27017/',
} as const

/**
 * `loadConfig()` (process.env, then `./.env`), with `defaults` for the variables that neither sets. Unlike Python's
 * `SkaldConfig(skald_mode="edge", …)`, where the arguments win over the environment, the environment wins here, so
 * the same launcher runs against other servers or under another id.
 */
export function exampleConfig(defaults: Readonly<Record<string, string>>): SkaldsConfig {
  const dotenv = readDotenv('.env')?.values ?? {}
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const [name, value] of Object.entries(defaults)) {
    if (!env[name] && !dotenv[name]) env[name] = value
  }
  return loadConfig({ env })
}

/**
 * `start()`'s result; if it throws (a bad variable, a server that does not answer, a broken YAML file), prints
 * `<name>: <message>` without the stack and exits with code 2, as a CLI does for errors at start-up.
 */
export async function orExit<T>(name: string, start: () => T | Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (error) {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(2)
  }
}

/** An example's own variable (not one of Skalds'): its value, or `fallback` when unset or empty. */
export function exampleVariable(name: string, fallback: string): string {
  return process.env[name] || fallback
}

/**
 * A Skald's `onEvent` that prints what its workers log, one line each: `[task_123] RTSP URL: …`. The task logger's
 * pino lines are reduced to their message; a worker's own stdout / stderr lines are printed as they are, tagged
 * with their source. (Python's `log_split_with_worker_id` writes one file per worker instead.)
 */
export function printWorkerOutput(event: NodeEvent): void {
  if (event.type === 'task-started') console.log(`[${event.taskId}] started (${event.className}, epoch ${event.epoch}, attempt ${event.attempt})`)
  else if (event.type === 'task-ended') console.log(`[${event.taskId}] ended: ${event.status}`)
  else if (event.type === 'task-rejected') console.log(`[${event.taskId}] rejected: ${event.reason}`)
  else if (event.type === 'task-retrying') console.log(`[${event.taskId}] failed, retrying in ${event.delayMs} ms: ${event.error}`)
  else if (event.type === 'worker' && event.event.type === 'done' && event.event.outcome.status === 'failed') {
    const { code, message } = event.event.outcome.error
    console.log(`[${event.taskId}] failed: ${code ? `${code}: ` : ''}${message}`)
  }
  else if (event.type === 'worker' && event.event.type === 'log') {
    const { source, line } = event.event
    console.log(source === 'logger' ? `[${event.taskId}] ${messageOf(line)}` : `[${event.taskId} ${source}] ${line}`)
  }
}

function messageOf(pinoLine: string): string {
  try {
    const parsed: unknown = JSON.parse(pinoLine)
    if (typeof parsed === 'object' && parsed !== null && 'msg' in parsed && typeof parsed.msg === 'string') return parsed.msg
  } catch {
    // not JSON: print it as it came
  }
  return pinoLine
}

/**
 * Runs one task of a worker in a child process, without a Skald, bus or store, and prints its log: what
 * `my_worker.start()` does under `if __name__ == "__main__"` in the Python examples. Ctrl-C cancels it.
 */
export async function runWorkerOnce(worker: WorkerRef, taskId: string, attachments: unknown): Promise<void> {
  const host = new ProcessHost({ poolSize: 0 })
  const run = host.start({
    worker,
    taskId,
    attachments,
    onEvent: (event) => printWorkerOutput({ type: 'worker', taskId, epoch: 0, event }),
  })
  const cancel = (): void => run.abort('cancelled')
  process.once('SIGINT', cancel)
  const outcome = await run.done
  process.off('SIGINT', cancel)
  await host.close()
  console.log(`[${taskId}] ${outcome.status}${outcome.status === 'failed' ? `: ${outcome.error.message}` : ''} after ${outcome.durationMs} ms`)
  if (outcome.status !== 'finished') process.exitCode = 1
}
