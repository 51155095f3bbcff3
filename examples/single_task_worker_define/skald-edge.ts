// An edge Skald (Python's skald_edge.py, ported): runs every task of its TaskWorkers file (all_workers.yml) as an
// Active task of its own, registers in Redis as `edge`, writes its tasks to MongoDB and follows the file while it
// runs. SIGTERM / Ctrl-C drains it: running tasks get 10 s to finish, then stop and are handed back (stored Created).
//
//   npm run example:edge        (or: node examples/single_task_worker_define/skald-edge.ts)
//
// Configuration: Skalds' variables (docs/configuration.md), from the environment or ./.env; where neither sets one,
// the Python example's value: SKALD_MODE=edge, LOG_LEVEL=debug, YAML_FILE=all_workers.yml beside this file, Redis
// localhost:6379, Kafka 127.0.0.1:9092, MongoDB mongodb://root:root@localhost:27017/. SKALD_ID defaults to
// `skalds-` + 5 random hex characters, as in Python.
import { fileURLToPath } from 'node:url'
import { runSkald } from '../../src/skald/run.ts'
import { exampleConfig, orExit, printWorkerOutput, PYTHON_EXAMPLE_SERVERS } from '../example-support.ts'

const config = await orExit('skald-edge', () =>
  exampleConfig({
    SKALD_MODE: 'edge',
    LOG_LEVEL: 'debug',
    YAML_FILE: fileURLToPath(new URL('all_workers.yml', import.meta.url)),
    ...PYTHON_EXAMPLE_SERVERS,
  }),
)

// app.register_task_worker(MySimpleWorker): a worker is registered by module and export, so that its tasks can run
// in child processes (the default isolation), each loading the module itself.
const running = await orExit('skald-edge', () =>
  runSkald({
    config,
    workers: { MySimpleWorker: { worker: { module: new URL('my-simple-worker.ts', import.meta.url), export: 'MySimpleWorker' } } },
    onEvent: printWorkerOutput,
  }),
)
console.log(`[skald] ${running.skald.mode} Skald ${running.skald.id} running the tasks of ${config.skald.yamlFile}; Ctrl-C stops it`)
process.exitCode = await running.exited
