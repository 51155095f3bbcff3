// One entry for the node: the host of an isolation mode, by name.
import type { Isolation } from './definition.ts'
import type { WorkerHost } from './host.ts'
import { InlineHost, type InlineHostOptions } from './inline-host.ts'
import { ProcessHost, type ProcessHostOptions } from './process-host.ts'
import { ThreadHost, type ThreadHostOptions } from './thread-host.ts'

/** Options of any host; each host takes the common ones and its own (poolSize, execArgv, cacheFactory…). */
export type AnyHostOptions = ProcessHostOptions & ThreadHostOptions & InlineHostOptions

/** A new host for `isolation`, given only the options that apply to it. */
export function createWorkerHost(isolation: Isolation, options: AnyHostOptions = {}): WorkerHost {
  const { poolSize, execArgv, env, preload, v8Tuning, resourceLimits, cacheFactory, ...common } = options
  switch (isolation) {
    case 'process':
      return new ProcessHost({ ...common, poolSize, execArgv, env, preload, v8Tuning })
    case 'thread':
      return new ThreadHost({ ...common, poolSize, preload, resourceLimits })
    case 'inline':
      return new InlineHost({ ...common, cacheFactory })
  }
}
