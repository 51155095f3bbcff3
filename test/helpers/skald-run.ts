// A Skald (any mode) started for a test, with every NodeEvent kept in order and a few waits over them.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryBus } from '../../src/bus/memory.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { createMemorySkaldStateBackend, type MemorySkaldStateBackend } from '../../src/state/memory.ts'
import { createSkaldStateReader, type SkaldStateReader } from '../../src/state/reader.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import type { NodeEvent } from '../../src/skald/node-events.ts'
import { Skald, type SkaldOptions } from '../../src/skald/skald.ts'
import type { YamlReload } from '../../src/skald/yaml-tasks.ts'
import { FIXTURE_CLASSES } from './skald-node.ts'
import { waitFor } from './wait.ts'
import { fixture } from './worker-run.ts'

export interface TestSkald {
  skald: Skald
  events: NodeEvent[]
  reloads: Array<YamlReload | Error>
  waitEvent(match: (e: NodeEvent) => boolean, what: string, timeoutMs?: number): Promise<NodeEvent>
  /** the hooks the task's runs entered, in order */
  hooks(taskId: string): string[]
  /** the task logger's lines, parsed */
  logged(taskId: string): Array<Record<string, unknown>>
}

/** The fixture classes of the node tests, plus the freezable one. */
export const SKALD_FIXTURES: SkaldOptions['workers'] = {
  ...FIXTURE_CLASSES,
  FreezableWorker: { worker: fixture('freezable') },
  // light and quick: for tests that run many tasks
  InlineNormal: { worker: fixture('normal'), isolation: 'inline' },
}

export async function startSkald(options: Omit<SkaldOptions, 'workers'> & { workers?: SkaldOptions['workers'] }): Promise<TestSkald> {
  const events: NodeEvent[] = []
  const reloads: Array<YamlReload | Error> = []
  const skald = await Skald.start({
    workers: SKALD_FIXTURES,
    logger: silentLogger,
    ...options,
    onEvent: (e) => events.push(e),
    onYamlReload: (r) => reloads.push(r),
  })
  const worker = (taskId: string) => events.flatMap((e) => (e.type === 'worker' && e.taskId === taskId ? [e.event] : []))
  return {
    skald,
    events,
    reloads,
    waitEvent: async (match, what, timeoutMs = 20_000) => (await waitFor(() => events.find(match), what, timeoutMs)),
    hooks: (taskId) => worker(taskId).flatMap((e) => (e.type === 'hook' ? [e.hook] : [])),
    logged: (taskId) => worker(taskId).flatMap((e) => (e.type === 'log' && e.source === 'logger' ? [JSON.parse(e.line) as Record<string, unknown>] : [])),
  }
}

/** A TaskWorkers file in a fresh temporary folder; returns its path. */
export function yamlFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'skalds-yaml-')), 'workers.yml')
  writeFileSync(path, text)
  return path
}

/** The embedded engines a Skald test runs on (memory bus, SQLite in memory, in-process state), and its Skalds. */
export interface EmbeddedEngines {
  bus: MemoryBus
  store: SqliteTaskStore
  state: MemorySkaldStateBackend
  reader: SkaldStateReader
  /** Skalds the test started: `close()` stops them first */
  started: TestSkald[]
  close(): Promise<void>
}

export function embeddedEngines(): EmbeddedEngines {
  const state = createMemorySkaldStateBackend()
  const engines: EmbeddedEngines = {
    bus: new MemoryBus({ logger: silentLogger }),
    store: SqliteTaskStore.open({ path: ':memory:' }),
    state,
    reader: createSkaldStateReader(state),
    started: [],
    close: async () => {
      await Promise.all(engines.started.map((s) => s.skald.stop(2000)))
      await engines.bus.close()
      await engines.store.close()
      await engines.state.close()
    },
  }
  return engines
}
