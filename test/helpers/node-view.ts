// A NodeView for unit tests of the parts that read the node monitor's view (strategies, attachment checks): an
// online node-mode Skald with nothing running; `overrides` set what the test is about.
import type { NodeView } from '../../src/controller/node-monitor.ts'

export function nodeView(id: string, overrides: Partial<NodeView> = {}): NodeView {
  return {
    id,
    mode: 'node',
    online: true,
    activityMs: 0,
    lastChangeAt: 0,
    heartbeatPresent: true,
    heartbeat: 1,
    classNames: [],
    taskIds: [],
    tasks: [],
    load: undefined,
    classSchemas: undefined,
    history: [],
    ...overrides,
  }
}
