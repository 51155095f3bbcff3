// `skalds doctor`: checks every server the configuration names (Redis, the bus, the store, a controller URL when
// given, and LOG_PATH's folder when set), all at once, each within `--timeout`. Exit 0 when every check passed (warnings allowed), 3 when a server
// did not answer, 1 when one answered but is not usable.
import type { CliOptions } from './config.ts'
import type { SkaldsConfig } from '../config/env.ts'
import { intFlag, loadCliConfig, settingFromDotenv, text } from './config.ts'
import { ExitCode } from './errors.ts'
import { type Check, describeRedis, probeController, probeKafka, probeLogPath, probeMongo, probeRedis, probeSqlite } from './doctor-probes.ts'
import { printJson } from './output.ts'
import { withProgress } from './progress.ts'

type Opts = CliOptions

/** The checks the configuration calls for, run in parallel. */
export function plannedChecks(config: SkaldsConfig, controller: { url: string; token: string | undefined } | undefined, timeoutMs: number): Array<Promise<Check>> {
  const checks: Array<Promise<Check>> = []
  if (config.redis) checks.push(probeRedis(config.redis, timeoutMs))
  if (config.bus === 'kafka' && config.kafka) checks.push(probeKafka(config.kafka, timeoutMs))
  else if (config.bus === 'redis-streams' && config.redis) {
    checks.push(Promise.resolve({ name: 'bus', target: describeRedis(config.redis), status: 'ok', reachable: true, message: 'redis-streams: on the Redis above' }))
  } else {
    const message = 'memory: in-process; commands reach only this process (fine for `skalds demo` and tests)'
    checks.push(Promise.resolve({ name: 'bus', target: 'in-process', status: 'ok', reachable: true, message, hint: 'for several processes set REDIS_URL (Redis Streams) or KAFKA_BROKERS' }))
  }
  if (config.store.engine === 'mongodb') checks.push(probeMongo(config.store.url, config.store.dbName, timeoutMs))
  else checks.push(probeSqlite(config.store.path))
  if (controller) checks.push(probeController(controller.url, controller.token, timeoutMs))
  if (config.log.path !== undefined) checks.push(probeLogPath(config.log.path, config.log))
  return checks
}

/** 0 all passed (warnings allowed), 3 a server did not answer, 1 a server answered but fails a requirement. */
export function doctorExitCode(checks: readonly Check[]): number {
  if (checks.some((c) => c.status === 'fail' && !c.reachable)) return ExitCode.Unreachable
  if (checks.some((c) => c.status === 'fail')) return ExitCode.Failure
  return ExitCode.Ok
}

export async function doctor(opts: Opts): Promise<void> {
  const envFile = text(opts.envFile)
  const config = loadCliConfig(envFile)
  const timeoutMs = intFlag('--timeout', opts.timeout, 100) ?? 3000
  const url = text(opts.url) ?? settingFromDotenv(envFile, 'SKALDS_CONTROLLER_URL')
  const token = text(opts.token) ?? settingFromDotenv(envFile, 'SKALDS_API_TOKEN')
  const planned = plannedChecks(config, url ? { url, token } : undefined, timeoutMs)
  const checks = await withProgress(`checking ${planned.length} servers`, () => Promise.all(planned))
  const code = doctorExitCode(checks)
  process.exitCode = code
  if (opts.json) return printJson({ ok: code === ExitCode.Ok, exitCode: code, checks })
  const width = Math.max(...checks.map((c) => c.name.length))
  for (const c of checks) {
    const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' }[c.status]
    process.stdout.write(`${mark}  ${c.name.padEnd(width)}  ${c.target}\n      ${' '.repeat(width)}  ${c.message}\n`)
    if (c.hint) process.stdout.write(`      ${' '.repeat(width)}  hint: ${c.hint}\n`)
  }
  const failedCount = checks.filter((c) => c.status === 'fail').length
  process.stderr.write(failedCount === 0 ? 'all checks passed\n' : `${failedCount} of ${checks.length} checks failed\n`)
}
