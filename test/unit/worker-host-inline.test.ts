// The WorkerHost contract on the inline host (same event loop: no preemption, no crash isolation, no freeze).
import { InlineHost } from '../../src/worker/hosts.ts'
import { workerHostContract } from '../contracts/worker-host-contract.ts'

workerHostContract('inline', (options) => new InlineHost(options), {
  preemptsBusyLoop: false,
  isolatesCrashes: false,
  isolatesSignals: false,
  freeze: false,
})
