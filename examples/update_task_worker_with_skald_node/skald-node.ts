// A node-mode Skald (Python's skald_node.py, ported): registers in Redis as `node` with the classes it runs, listens
// on the bus for task.assign / task.cancel / task.update.attachment, and runs the tasks whose executor is this node
// (create-task-script.ts makes one, update-task-script.ts changes its attachments while it runs). SIGTERM / Ctrl-C drains it: running tasks get 10 s to finish, then stop and
// are handed back (stored Created, to be dispatched again).
//
//   npm run example:update       (or: node examples/update_task_worker_with_skald_node/skald-node.ts)
//
// Configuration: Skalds' variables (docs/configuration.md), from the environment or ./.env; where neither sets one,
// the Python example's value: SKALD_ID=skald_123, SKALD_MODE=node, LOG_LEVEL=debug, Redis localhost:6379, Kafka
// 127.0.0.1:9092, MongoDB mongodb://root:root@localhost:27017/.
import { runSkald } from '../../src/skald/run.ts'
import { exampleConfig, orExit, printWorkerOutput, PYTHON_EXAMPLE_SERVERS } from '../example-support.ts'

const config = await orExit('skald-node', () =>
  exampleConfig({ SKALD_ID: 'skald_123', SKALD_MODE: 'node', LOG_LEVEL: 'debug', ...PYTHON_EXAMPLE_SERVERS }),
)

// app.register_task_worker(MySimpleWorker): by module and export, so that each task runs in a child process of its own.
const running = await orExit('skald-node', () =>
  runSkald({
    config,
    workers: { MySimpleWorker: { worker: { module: new URL('my-simple-worker.ts', import.meta.url), export: 'MySimpleWorker' } } },
    onEvent: printWorkerOutput,
  }),
)
console.log(`[skald] ${running.skald.mode} Skald ${running.skald.id} waiting for tasks on ${config.bus}; Ctrl-C stops it`)
process.exitCode = await running.exited
