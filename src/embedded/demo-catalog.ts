// What the demo runs: its four worker classes (by module URL, so each task runs in a child process that loads the
// module itself) and the example tasks it seeds. The worker modules are resolved with this file's own extension:
// `.ts` when run from src/ (Node strips the types), `.js` from dist/ (Node refuses to strip types under
// node_modules, so an installed package runs the built files).
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { WorkerClass } from '../skald/local-task.ts'

const EXTENSION = extname(fileURLToPath(import.meta.url))

function workerModule(name: string): URL {
  return new URL(`./demo-workers/${name}${EXTENSION}`, import.meta.url)
}

/** className → worker: what both demo nodes register. */
export const DEMO_WORKERS: Readonly<Record<string, WorkerClass>> = {
  StreamAnalysis: { worker: { module: workerModule('stream-analysis'), export: 'StreamAnalysis' }, isolation: 'process' },
  FlakyImport: { worker: { module: workerModule('flaky-import'), export: 'FlakyImport' }, isolation: 'process' },
  PublishResults: { worker: { module: workerModule('publish-results'), export: 'PublishResults' }, isolation: 'process' },
  BatchReport: { worker: { module: workerModule('batch-report'), export: 'BatchReport' }, isolation: 'process' },
}

/** An example task, in the shape `POST /api/tasks/` takes. */
export interface DemoTaskSeed {
  id: string
  className: string
  name: string
  description: string
  attachments: Record<string, unknown>
  dependencies?: string[]
  maxRetries?: number
}

/** The example tasks, in creation order (a dependency before the task that waits on it). Fixed ids: a second run finds them. */
export const DEMO_TASKS: readonly DemoTaskSeed[] = [
  {
    id: 'demo-stream-analysis',
    className: 'StreamAnalysis',
    name: 'Stream analysis: lobby camera',
    description: 'Runs until cancelled. Change its attachments (fps, detect) and watch its log pick them up.',
    attachments: { streamUrl: 'rtsp://cameras.example/lobby', fps: 25, detect: ['person', 'bag'] },
  },
  {
    id: 'demo-flaky-import',
    className: 'FlakyImport',
    name: 'Import orders (fails twice, then succeeds)',
    description: 'Fails its first two attempts; maxRetries 3 has it retried until it succeeds.',
    attachments: { source: 'https://erp.example/orders', rows: 1200, failFirst: 2 },
    maxRetries: 3,
  },
  {
    id: 'demo-publish-results',
    className: 'PublishResults',
    name: 'Publish the imported orders (waits on the import)',
    description: 'Depends on demo-flaky-import: the dispatcher starts it once the import is Finished.',
    attachments: { target: 's3://reports.example/orders', steps: 5 },
    dependencies: ['demo-flaky-import'],
  },
  {
    id: 'demo-batch-report',
    className: 'BatchReport',
    name: 'Monthly report (pause and resume me)',
    description: 'Checkpoints every step: pause it, resume it, and it continues from the step it reached.',
    attachments: { steps: 120, stepMs: 1000 },
  },
]

/** The ids of the demo's two node-mode Skalds. */
export const DEMO_NODE_IDS = ['demo-node-1', 'demo-node-2'] as const
