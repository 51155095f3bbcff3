// The `skalds` command as a test runs it: bin/skalds.js spawned with Node 24, its output collected, its exit awaited.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { baseEnv } from './skald-processes.ts'
import { waitFor } from './wait.ts'

export const BIN = fileURLToPath(new URL('../../bin/skalds.js', import.meta.url))
export const CLI_WORKERS = fileURLToPath(new URL('../fixtures/workers/cli-workers.ts', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** laid over the environment without the test servers' variables (baseEnv) */
  env?: Record<string, string>
  cwd?: string
  /** killed after this many ms (the test then fails on the code); default 60 s */
  timeoutMs?: number
  stdin?: string
}

function environment(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = baseEnv()
  for (const name of Object.keys(base)) if (/^(SKALDS_|SYSTEM_CONTROLLER|MONITOR_|DISPATCHER_|YAML_FILE|LOG_LEVEL|DEBUG$)/.test(name)) delete base[name]
  return { ...base, LOG_LEVEL: 'warn', ...env }
}

/** Runs `skalds <args>` to its end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: environment(options.env), cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t))
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
    child.stdin.end(options.stdin ?? '')
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

export interface LongRunning {
  child: ChildProcess
  /** stdout and stderr, as they come */
  output(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts a long-running command (`controller`, `node`, `edge`) and waits until its output shows `ready`. */
export async function startCli(args: readonly string[], ready: RegExp, options: CliOptions, children: ChildProcess[]): Promise<LongRunning> {
  const child = spawn(process.execPath, [BIN, ...args], { env: environment(options.env), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let text = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => (text += t))
  child.stderr.setEncoding('utf8').on('data', (t: string) => (text += t))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  await waitFor(() => ready.test(text) || child.exitCode !== null, `skalds ${args[0]} to start`, 30_000)
  if (child.exitCode !== null) throw new Error(`skalds ${args.join(' ')} exited with ${child.exitCode}:\n${text}`)
  return { child, output: () => text, exited }
}
