// `skalds demo`: runDemo() (src/embedded/demo.ts) from the CLI: the controller, two node Skalds and the example
// workers in this process, on the embedded engines unless the configuration names servers. Prints the dashboard URL
// and what runs where; Ctrl-C stops it (the next run continues its tasks).
import type { CliOptions } from './config.ts'
import type { Logger } from '../config/logger.ts'
import { intFlag, loadCliConfig, text as str } from './config.ts'
import { withProgress } from './progress.ts'

export async function demoCommand(opts: CliOptions): Promise<void> {
  const config = loadCliConfig(str(opts.envFile))
  const port = intFlag('--port', opts.port, 0, 65_535)
  const drainTimeoutMs = intFlag('--drain-timeout', opts.drainTimeout, 0, 600_000)
  const { runDemo } = await import('../embedded/demo.ts')
  const { formatDemoInfo } = await import('../embedded/demo-info.ts')
  const running = await withProgress('starting the demo', () =>
    runDemo({
      config,
      ...(port === undefined ? {} : { port }),
      ...(str(opts.host) ? { host: str(opts.host)! } : {}),
      ...(str(opts.dataDir) ? { dataDir: str(opts.dataDir)! } : {}),
      ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }),
      seed: opts.seed !== false,
      // LOG_LEVEL given: pino's JSON lines as configured; else one readable line per warning, for a person reading.
      ...(config.sources.LOG_LEVEL ? {} : { logger: consoleLogger('skalds demo') }),
      handleSignals: false,
    }),
  )
  process.stdout.write(`${formatDemoInfo(running.info).join('\n')}\n`)
  let stopping = false
  const onSignal = (): void => {
    if (stopping) process.exit(1)
    stopping = true
    process.stderr.write('skalds demo: stopping (running tasks are handed back; Ctrl-C again exits at once)\n')
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`skalds demo: stop failed: ${(error as Error)?.message ?? String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  await new Promise(() => {})
}

/** Warnings and errors as one line each on stderr (`prefix: warn: message (field=value …)`); debug and info dropped. */
function consoleLogger(prefix: string, bindings: Record<string, unknown> = {}): Logger {
  const line = (level: string) => (objOrMsg: object | string, msg?: string): void => {
    const fields = typeof objOrMsg === 'string' ? {} : (objOrMsg as Record<string, unknown>)
    const text = typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '')
    const all = { ...bindings, ...fields }
    const err = all.err instanceof Error ? all.err.message : undefined
    delete all.err
    const extra = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    process.stderr.write(`${prefix}: ${level}: ${text}${err ? `: ${err}` : ''}${extra.length > 0 ? ` (${extra.join(' ')})` : ''}\n`)
  }
  const skip = (): void => {}
  return { debug: skip, info: skip, warn: line('warn'), error: line('error'), child: (more) => consoleLogger(prefix, { ...bindings, ...more }) }
}
