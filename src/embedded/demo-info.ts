// What a started demo tells its user: where the dashboard is, which engine runs each part, the nodes and the example
// tasks; and those facts as the lines the CLI prints.
import type { EngineKinds } from './engines.ts'

export interface DemoTaskInfo {
  id: string
  name: string
  className: string
  /** created by this run (false: found in the store from an earlier run) */
  seeded: boolean
}

export interface DemoInfo {
  /** the controller's URL, `http://host:port`: the dashboard and the API (`/api/...`) */
  url: string
  /** the API's interactive documentation */
  apiDocsUrl: string
  engines: EngineKinds & {
    /** false: everything in this process (memory bus and state, SQLite); true: on the configured servers */
    distributed: boolean
    /** the SQLite file, or the MongoDB URL (password hidden) and database */
    storeLocation: string
  }
  /** the node-mode Skalds' ids */
  nodes: string[]
  /** the worker classes both nodes run */
  classes: string[]
  tasks: DemoTaskInfo[]
  /** from runDemo() to /api/system/health answering healthy, ms */
  healthyInMs: number
}

/** The lines to print once the demo runs. */
export function formatDemoInfo(info: DemoInfo): string[] {
  const e = info.engines
  const where = e.distributed ? 'on the configured servers' : 'in this process, no server needed'
  return [
    `Skalds demo running (healthy in ${info.healthyInMs} ms)`,
    `  Dashboard: ${info.url}`,
    `  API docs:  ${info.apiDocsUrl}`,
    `  Engines (${where}): store ${e.store} at ${e.storeLocation}, bus ${e.bus}, Skald state ${e.state}, task caches ${e.cache}`,
    `  Nodes:     ${info.nodes.join(', ')} (classes ${info.classes.join(', ')})`,
    `  Tasks:`,
    ...info.tasks.map((t) => `    ${t.id.padEnd(22)} ${t.className.padEnd(15)} ${t.name}${t.seeded ? '' : ' (from an earlier run)'}`),
    `  Ctrl-C stops it; the next run continues its tasks.`,
  ]
}
