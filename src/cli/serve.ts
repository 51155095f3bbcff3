// The long-running commands: `controller` (runController), `node`, `edge` and `run` (runSkald in each mode). Each
// builds its configuration from flags > environment > `.env`, starts with a progress line on a terminal, prints one
// line saying what runs where, and ends on SIGTERM / Ctrl-C (a second signal exits at once).
import type { CliOptions } from './config.ts'
import { resolve } from 'node:path'
import type { SkaldsConfig } from '../config/env.ts'
import type { NodeEvent } from '../skald/node-events.ts'
import { intFlag, loadCliConfig, text as str } from './config.ts'
import { messageOf, redact } from './output.ts'
import { withProgress } from './progress.ts'
import { loadWorkerClasses } from './workers.ts'

type Opts = CliOptions

/** What runs on which engines, without secrets: `store sqlite skalds.db, bus redis-streams, redis 127.0.0.1:6390`. */
export function describeEngines(config: SkaldsConfig): string {
  const redis = config.redis ? (config.redis.cluster ? `cluster ${config.redis.cluster.nodes.join(',')}` : config.redis.url ? redact(config.redis.url) : `${config.redis.host}:${config.redis.port}`) : 'none'
  const store = config.store.engine === 'sqlite' ? `sqlite ${config.store.path}` : `mongodb ${redact(config.store.url)}`
  return `store ${store}, bus ${config.bus}, redis ${redis}`
}

export async function controllerCommand(opts: Opts): Promise<void> {
  const config = loadCliConfig(str(opts.envFile), {
    SYSTEM_CONTROLLER_HOST: ['--host', str(opts.host)],
    SYSTEM_CONTROLLER_PORT: ['--port', str(opts.port)],
    SKALDS_API_TOKEN: ['--token', str(opts.token)],
  })
  const { runController } = await import('../controller/run.ts')
  const running = await withProgress(`starting the controller (${describeEngines(config)})`, () => runController({ config, handleSignals: false }))
  process.stderr.write(`skalds controller listening on ${running.controller.url ?? '(no API)'}: ${describeEngines(config)}; Ctrl-C stops it\n`)
  await untilSignal(() => running.stop().then(() => 0))
}

export const nodeCommand = (opts: Opts): Promise<void> => runSkaldCommand('node', opts)
export const edgeCommand = (opts: Opts): Promise<void> => runSkaldCommand('edge', opts)
export const runCommand = (opts: Opts): Promise<void> => runSkaldCommand('single_process', opts)

async function runSkaldCommand(mode: 'node' | 'edge' | 'single_process', opts: Opts): Promise<void> {
  const config = loadCliConfig(str(opts.envFile), {
    SKALD_MODE: ['(mode)', mode],
    SKALD_ID: ['--id', str(opts.id)],
    YAML_FILE: ['--yaml', opts.yaml === undefined ? undefined : resolve(String(opts.yaml))],
  })
  const maxTasks = intFlag('--max-tasks', opts.maxTasks, 1)
  const drainTimeoutMs = intFlag('--drain-timeout', opts.drainTimeout, 0)
  const workers = await loadWorkerClasses(opts.worker as string[])
  const { runSkald } = await import('../skald/run.ts')
  const running = await withProgress(`starting the ${mode} Skald ${config.skald.id} (${describeEngines(config)})`, () =>
    runSkald({ config, workers, ...(maxTasks ? { limits: { maxTasks } } : {}), ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }), onEvent: printNodeEvent }),
  )
  const what = mode === 'node' ? `classes ${Object.keys(workers).join(', ')}` : `the ${mode === 'edge' ? 'tasks' : 'task'} of ${config.skald.yamlFile}`
  process.stderr.write(`skalds ${mode === 'single_process' ? 'run' : mode} ${running.skald.id} running ${what}: ${describeEngines(config)}; Ctrl-C stops it\n`)
  // runSkald drains on the first signal (and exits on a second); the code is the task's in single_process mode.
  const code = await running.exited
  process.exit(code)
}

/** Waits for SIGTERM / SIGINT, runs `stop`, and exits with its code; a second signal exits at once with 1. */
function untilSignal(stop: () => Promise<number>): Promise<void> {
  return new Promise(() => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(1)
      stopping = true
      process.stderr.write(`skalds: ${signal}: stopping (again to exit at once)\n`)
      stop().then(
        (code) => process.exit(code),
        (error: unknown) => {
          process.stderr.write(`skalds: stop failed: ${(error as Error)?.message ?? String(error)}\n`)
          process.exit(1)
        },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

/** One line per thing a Skald's tasks do: started, logged (the message of a pino line), ended. */
export function printNodeEvent(event: NodeEvent): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`)
  if (event.type === 'task-started') out(`[${event.taskId}] started (${event.className}, attempt ${event.attempt})`)
  else if (event.type === 'task-ended') out(`[${event.taskId}] ended: ${event.status}`)
  else if (event.type === 'task-rejected') out(`[${event.taskId}] rejected: ${event.reason}`)
  else if (event.type === 'task-retrying') out(`[${event.taskId}] failed, retrying in ${event.delayMs} ms: ${event.error}`)
  else if (event.type === 'worker' && event.event.type === 'done' && event.event.outcome.status === 'failed') {
    out(`[${event.taskId}] failed: ${event.event.outcome.error.message}`)
  } else if (event.type === 'worker' && event.event.type === 'log') {
    const { source, line } = event.event
    out(source === 'logger' ? `[${event.taskId}] ${messageOf(line)}` : `[${event.taskId} ${source}] ${line}`)
  }
}
