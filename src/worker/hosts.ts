// skalds/worker/hosts: the hosts that run one worker task (inline, in a worker thread, in a child process) and
// createWorkerHost, which a Skald node uses. Apart from skalds/worker, which worker modules import: a worker child
// never loads these.
export { InlineHost, type InlineHostOptions } from './inline-host.ts'
export { ThreadHost, type ThreadHostOptions } from './thread-host.ts'
export { ProcessHost, type ProcessHostOptions } from './process-host.ts'
export type { V8Tuning } from './v8-footprint.ts'
export { createWorkerHost, type AnyHostOptions } from './create-host.ts'
