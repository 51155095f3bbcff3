// Skald processes for tests: test/fixtures/skald-process.ts (runSkald with the fixture workers) spawned with the
// env a test gives, their output kept, their exit awaited; each in its own process group.
import { type ChildProcess, spawn } from 'node:child_process'
import { waitFor } from './wait.ts'

export interface SkaldChild {
  child: ChildProcess
  output: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
}

/** The environment without the servers `npm test` exports, which would win over the test's (cluster, MongoDB…). */
export function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (/^(REDIS|MONGO|KAFKA|SKALD|DB_NAME)/.test(name)) delete env[name]
  return env
}

/** Spawns a Skald and waits for its `ready` line (or its exit); `children` collects it for the test's cleanup. */
export async function spawnSkald(env: Record<string, string>, children: ChildProcess[]): Promise<SkaldChild> {
  const child = spawn(process.execPath, [new URL('../fixtures/skald-process.ts', import.meta.url).pathname], {
    env: { ...baseEnv(), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group, so a test can send SIGINT to all of it as a terminal's Ctrl-C does
    detached: true,
  })
  children.push(child)
  const output: string[] = []
  child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)))
  child.stderr.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })))
  await waitFor(() => output.some((l) => l.startsWith('ready ')) || child.exitCode !== null, 'the Skald to start', 20_000)
  return { child, output, exited }
}

/** SIGKILLs whatever is still running. */
export function killAll(children: readonly ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}
