// runDemo()'s options, each with its default, checked once with the codebase's option schemas: a bad one is a
// DemoOptionsError (`E_DEMO_OPTIONS`) naming its field, before anything is opened.
import type { SkaldsConfig } from '../config/env.ts'
import type { Logger } from '../config/logger.ts'
import { boolean, fn, integer, nonEmptyString, opaque, optionsObject, parseOptions } from '../config/options.ts'
import type { DemoInfo } from './demo-info.ts'
import { DemoOptionsError } from './errors.ts'

export interface DemoOptions {
  /** the API's (and dashboard's) port; 0 = any free port (the URL returned says which); default 8000 */
  port?: number
  /** the API's host; default 127.0.0.1 (only this machine) */
  host?: string
  /** where the embedded store lives (`<dataDir>/skalds.db`), created if missing; default `./.skalds` */
  dataDir?: string
  /** default `loadConfig()` (process.env and `.env`): servers given there switch to the distributed engines */
  config?: SkaldsConfig
  /** create the example tasks that are not in the store yet; default true */
  seed?: boolean
  /** stop(): how long running tasks may finish before they are handed back, ms; default 2000 */
  drainTimeoutMs?: number
  /** stop on the first SIGTERM / SIGINT (a second one exits at once with code 1); default true */
  handleSignals?: boolean
  /** default a pino logger `skalds:demo` at LOG_LEVEL, or `warn` when LOG_LEVEL is not set */
  logger?: Logger
  /** called once everything runs and the example tasks are seeded (the CLI prints it) */
  onReady?: (info: DemoInfo) => void
}

export interface ResolvedDemoOptions {
  port: number
  host: string
  dataDir: string
  config: SkaldsConfig | undefined
  seed: boolean
  drainTimeoutMs: number
  handleSignals: boolean
  logger: Logger | undefined
  onReady: ((info: DemoInfo) => void) | undefined
}

const schema = optionsObject({
  port: integer(0, 65535).default(8000),
  host: nonEmptyString().default('127.0.0.1'),
  dataDir: nonEmptyString().default('.skalds'),
  config: opaque<SkaldsConfig>().optional(),
  seed: boolean().default(true),
  drainTimeoutMs: integer(0, 600_000).default(2000),
  handleSignals: boolean().default(true),
  logger: opaque<Logger>().optional(),
  onReady: fn<(info: DemoInfo) => void>().optional(),
})

/** @throws DemoOptionsError naming the first bad option */
export function resolveDemoOptions(options: DemoOptions = {}): ResolvedDemoOptions {
  const o = parseOptions(schema, options, (message) => new DemoOptionsError(message), 'runDemo')
  return { port: o.port, host: o.host, dataDir: o.dataDir, config: o.config, seed: o.seed, drainTimeoutMs: o.drainTimeoutMs, handleSignals: o.handleSignals, logger: o.logger, onReady: o.onReady }
}
