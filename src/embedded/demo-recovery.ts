// On the embedded engines nothing outlives the process: a task the store still shows Assigning or Running on a demo
// node was cut short by a crash (a clean stop hands it back). Before the nodes start, such tasks go back to Created
// with no executor — what a failover does for a dead node — so the dispatcher runs them again, from their checkpoint.
import type { Logger } from '../config/logger.ts'
import { TaskConflictError } from '../store/errors.ts'
import type { TaskStore } from '../store/task-store.ts'

/** Hands back the live tasks of `nodeIds`; resolves with their ids. Only for a store no other process runs tasks of. */
export async function recoverOrphanedTasks(store: TaskStore, nodeIds: readonly string[], logger: Logger): Promise<string[]> {
  const recovered: string[] = []
  for (const executor of nodeIds) {
    const { items } = await store.list({ lifecycleStatus: ['Assigning', 'Running'], executor, limit: 1000 })
    for (const task of items) {
      try {
        // Compare-and-set on what was read: a task that moved on meanwhile is left alone.
        await store.update(task.id, { lifecycleStatus: 'Created', executor: null }, { expect: { lifecycleStatus: task.lifecycleStatus, executor, epoch: task.runtime.epoch } })
        recovered.push(task.id)
      } catch (error) {
        if (!(error instanceof TaskConflictError)) throw error
      }
    }
  }
  if (recovered.length > 0) logger.warn({ tasks: recovered }, 'tasks left running by an earlier demo that did not stop cleanly: handed back to be run again')
  return recovered
}
