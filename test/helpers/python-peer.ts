// The real Python Skalds (0.3.8) as the interop tests' peer: its interpreter and the examples of its sdist
// (`scripts/services/pyskalds.sh`, exported as SKALDS_PYTHON / SKALDS_PYSKALDS_EXAMPLES), the Kafka 3.9 broker it
// can talk to (`scripts/services/kafka39.sh`, KAFKA39_BROKERS), its processes (our Python fixtures under
// test/fixtures/python/, its example scripts, its controller) and the Skalds variables that point them at the
// test servers. A missing piece is an error naming `npm run services`, never a skip.
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'
import { KafkaBus } from '../../src/bus/kafka.ts'
import { silentLogger } from '../../src/config/logger.ts'
import type { DispatchStrategy } from '../../src/config/env.ts'
import { SystemController } from '../../src/controller/system-controller.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'
import { mongoUrl, redis8Url } from './servers.ts'
import { baseEnv } from './skald-processes.ts'
import { waitFor } from './wait.ts'

export const PYTHON_FIXTURES = fileURLToPath(new URL('../fixtures/python/', import.meta.url))

const HOW = 'run the tests through `npm test`, or `npm run services -- up` then eval "$(bash scripts/services.sh env)"'

function required(name: string, what: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set (${what}): ${HOW}`)
  return value
}

/** The venv's interpreter with skalds 0.3.8 installed. */
export function pythonBin(): string {
  const python = required('SKALDS_PYTHON', 'the Python Skalds peer, module pyskalds')
  try {
    accessSync(python, constants.X_OK)
  } catch {
    throw new Error(`SKALDS_PYTHON=${python} is not an executable (the Python Skalds peer, module pyskalds): ${HOW}`)
  }
  return python
}

/** The examples/ folder of the skalds 0.3.8 sdist. */
export function pythonExamples(): string {
  const dir = required('SKALDS_PYSKALDS_EXAMPLES', "the Python Skalds sdist's examples, module pyskalds")
  if (!existsSync(dir)) throw new Error(`SKALDS_PYSKALDS_EXAMPLES=${dir} does not exist (module pyskalds): ${HOW}`)
  return dir
}

/** The Kafka 3.9 broker, `host:port`: the line the Python client can talk to. */
export function kafka39Brokers(): string {
  return required('KAFKA39_BROKERS', 'the Kafka 3.9 broker, module kafka39')
}

function hostPort(address: string): { host: string; port: string } {
  const at = address.lastIndexOf(':')
  return { host: address.slice(0, at), port: address.slice(at + 1) }
}

/**
 * Skalds' own variables (wire §7.1) for a Python process on the test servers: Redis 8 (DB 0: Python has no
 * index option), the Kafka 3.9 broker, the MongoDB-wire server with the test's database. SKALD_ID, when given, is
 * also the Kafka group id of a Python node (it takes it from the environment only, wire §8.1-17).
 */
export function pythonEnv(o: { dbName: string; logPath: string; skaldId?: string; extra?: Record<string, string> }): Record<string, string> {
  const redis = new URL(redis8Url())
  const kafka = hostPort(kafka39Brokers().split(',')[0]!)
  return {
    REDIS_HOST: redis.hostname,
    REDIS_PORT: redis.port || '6379',
    KAFKA_HOST: kafka.host,
    KAFKA_PORT: kafka.port,
    MONGO_HOST: mongoUrl(),
    DB_NAME: o.dbName,
    LOG_PATH: o.logPath,
    LOG_LEVEL: 'INFO',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...(o.skaldId ? { SKALD_ID: o.skaldId } : {}),
    ...o.extra,
  }
}

/**
 * Our processes' variables for the same servers: Redis 8, the Kafka 3.9 broker, MongoDB with the test's database.
 * No REDIS_KEY_PREFIX: it prefixes Skalds' wire keys too (docs/python-interop.md), and Python has none.
 */
export function ourEnv(o: { dbName: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    REDIS_URL: redis8Url(),
    KAFKA_BROKERS: kafka39Brokers(),
    MONGO_URL: mongoUrl(),
    DB_NAME: o.dbName,
    ...o.extra,
  }
}

/** A child process (Python or ours), its stdout and stderr kept line by line, in its own process group. */
export class PeerProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #done = false

  constructor(name: string, command: string, args: readonly string[], o: { env: Record<string, string>; cwd?: string }, children: PeerProcess[]) {
    this.name = name
    this.child = spawn(command, args, { env: { ...baseEnv(), ...o.env }, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    children.push(this)
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.lines.push(line))
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.lines.push(line))
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.#done = true
        resolve({ code, signal })
      })
    })
  }

  get running(): boolean {
    return !this.#done
  }

  /** The first line matching `pattern` (after index `from`), waited for; fails early when the process exits. */
  async waitLine(pattern: RegExp, what: string, timeoutMs = 30_000, from = 0): Promise<string> {
    try {
      return await waitFor(
        () => {
          const line = this.lines.find((l, i) => i >= from && pattern.test(l))
          if (line !== undefined) return line
          if (!this.running) throw new Error(`${this.name} exited`)
          return undefined
        },
        `${this.name}: ${what}`,
        timeoutMs,
        50,
      )
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.tail()}`, { cause: error })
    }
  }

  /** The lines `INTEROP <event> <taskId> <json>` the Python fixture worker printed for a task. */
  events(event: string, taskId: string): Array<Record<string, unknown>> {
    const prefix = `INTEROP ${event} ${taskId} `
    const out: Array<Record<string, unknown>> = []
    for (const line of this.lines) {
      const at = line.indexOf(prefix)
      if (at >= 0) out.push(JSON.parse(line.slice(at + prefix.length)) as Record<string, unknown>)
    }
    return out
  }

  tail(n = 60): string {
    return [`--- ${this.name} (last ${n} lines)`, ...this.lines.slice(-n)].join('\n')
  }

  /** SIGKILL to its whole group (a Python node's worker processes included). */
  kill(): void {
    if (!this.running || this.child.pid === undefined) return
    try {
      process.kill(-this.child.pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
}

/** A Python script under the venv's interpreter. */
export function spawnPython(name: string, script: string, args: readonly string[], o: { env: Record<string, string>; cwd?: string }, children: PeerProcess[]): PeerProcess {
  return new PeerProcess(name, pythonBin(), [script, ...args], o, children)
}

/** Runs a Python script to its end; rejects (with its output) on a non-zero exit or after `timeoutMs`. */
export async function runPython(name: string, script: string, args: readonly string[], o: { env: Record<string, string>; cwd?: string; timeoutMs?: number }, children: PeerProcess[]): Promise<PeerProcess> {
  const p = spawnPython(name, script, args, o, children)
  const timer = setTimeout(() => p.kill(), o.timeoutMs ?? 60_000)
  const exit = await p.exited
  clearTimeout(timer)
  if (exit.code !== 0) throw new Error(`${name} exited with ${exit.code ?? exit.signal}\n${p.tail()}`)
  return p
}

/**
 * Waits until a consumer group whose id `matches` is Stable with a partition assigned. The Python consumers start
 * at `latest` with a group of their own (a node's: its SKALD_ID; a worker's: `<taskId>_<random>`), so an event sent
 * before that group has its partitions is never seen by them: the tests send only after this.
 */
export async function waitGroupReady(brokers: string, matches: (groupId: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  const admin = new Admin({ clientId: 'interop-groups', bootstrapBrokers: brokers.split(',') })
  try {
    return await waitFor(
      async () => {
        const groups = [...(await admin.listGroups()).keys()].filter(matches)
        if (groups.length === 0) return undefined
        const described = await admin.describeGroups({ groups })
        for (const [id, group] of described) {
          if (group.state !== 'STABLE') continue
          const assigned = [...group.members.values()].some((m) => [...(m.assignments?.values() ?? [])].some((a) => a.partitions.length > 0))
          if (assigned) return id
        }
        return undefined
      },
      what,
      timeoutMs,
      250,
    )
  } finally {
    await admin.close()
  }
}

/**
 * Our System Controller, in this process, on the interop servers: the Skalds' state on Redis 8 without a key prefix
 * (Python's wire keys), the Kafka 3.9 bus, the test's MongoDB database; the API on a free port. No leadership: the
 * lease key would be shared with every other unprefixed controller on the test Redis, and this one must act.
 */
export async function startOurController(o: { dbName: string; token?: string; strategy?: DispatchStrategy; storeOnly?: boolean }): Promise<{ controller: SystemController; close: () => Promise<void> }> {
  const connection = await RedisConnection.connect({ url: redis8Url(), logger: silentLogger })
  const store = await MongoTaskStore.connect({ url: mongoUrl(), dbName: o.dbName })
  const bus = new KafkaBus({ brokers: kafka39Brokers(), logger: silentLogger })
  const controller = await SystemController.start({
    store,
    bus,
    // storeOnly: the API over the store, no control plane (nothing dispatched, judged or failed over)
    ...(o.storeOnly ? {} : { state: createRedisSkaldStateBackend(connection) }),
    leadership: false,
    caches: false,
    plane: { nodeIntervalMs: 500, taskIntervalMs: 3000, dispatchIntervalMs: 500 },
    feedIntervalMs: 200,
    logger: silentLogger,
    ...(o.strategy ? { strategy: o.strategy } : {}),
    api: { port: 0, logLevel: 'silent', ...(o.token ? { token: o.token } : {}) },
  })
  return {
    controller,
    close: async () => {
      await controller.stop()
      await bus.close()
      await store.close()
      await connection.close()
    },
  }
}
