// The WorkerHost contract on the thread host (worker_threads: preempts busy loops, isolates JS crashes, no freeze).
import { ThreadHost } from '../../src/worker/hosts.ts'
import { workerHostContract } from '../contracts/worker-host-contract.ts'

workerHostContract('thread', (options) => new ThreadHost(options), {
  preemptsBusyLoop: true,
  isolatesCrashes: true,
  isolatesSignals: false,
  freeze: false,
})
