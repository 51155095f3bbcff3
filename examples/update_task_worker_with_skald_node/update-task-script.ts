// Python's update_task_script.py, ported: changes the attachments of the task create-task-script.ts made, in the
// store, and publishes task.update.attachment; the node running it re-reads the task and hands the new attachments
// to the worker, whose update hook logs them ("Updating MyWorker with RTSP URL: rtsp://example.com/new_stream, …").
//
//   npm run example:update:update-task (or: node examples/update_task_worker_with_skald_node/update-task-script.ts)
//
// Same configuration as create-task-script.ts (TASK_ID, default task_123; MONGO_*, DB_NAME; KAFKA_* or SKALDS_BUS).
import { openBus } from '../../src/bus/open.ts'
import { createTaskEvent, toWireTaskEvent } from '../../src/model/events.ts'
import { Topic } from '../../src/model/topics.ts'
import { TaskNotFoundError } from '../../src/store/errors.ts'
import { openTaskStore } from '../../src/store/open.ts'
import { exampleConfig, exampleVariable, orExit, PYTHON_EXAMPLE_SERVERS } from '../example-support.ts'
import { MySimpleDataModel } from './my-simple-worker.ts'

const config = await orExit('update-task-script', () => exampleConfig(PYTHON_EXAMPLE_SERVERS))
const taskId = exampleVariable('TASK_ID', 'task_123')

const attachments = MySimpleDataModel.parse({ rtspUrl: 'rtsp://example.com/new_stream', fixFrame: 60 })
const store = await openTaskStore(config.store)
let found: boolean
try {
  found = await store.update(taskId, { attachments }).then(
    () => true,
    (error: unknown) => {
      if (error instanceof TaskNotFoundError) return false
      throw error
    },
  )
} finally {
  await store.close()
}
if (!found) {
  // Python prints the error and publishes anyway; with no task there is nothing to tell a node about.
  console.error(`no task ${taskId}: run create-task-script.ts first`)
  process.exit(1)
}

const bus = await openBus(config)
try {
  await bus.publish(Topic.TaskUpdateAttachment, taskId, toWireTaskEvent(createTaskEvent(taskId)))
} finally {
  await bus.close()
}
console.log(`stored the new attachments of task ${taskId} and published ${Topic.TaskUpdateAttachment} on ${config.bus}`)
