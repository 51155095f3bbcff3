// The WorkerHost contract on the process host (child processes from a warm pool: every capability).
import { ProcessHost } from '../../src/worker/hosts.ts'
import { workerHostContract } from '../contracts/worker-host-contract.ts'

workerHostContract('process', (options) => new ProcessHost({ poolSize: 2, ...options }), {
  preemptsBusyLoop: true,
  isolatesCrashes: true,
  isolatesSignals: true,
  freeze: true,
})
