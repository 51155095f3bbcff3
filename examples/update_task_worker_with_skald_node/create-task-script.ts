// Python's create_task_script.py, ported: writes a MySimpleWorker task to the store, assigns it to the node (what a
// dispatcher does) and publishes task.assign, so the node started by skald-node.ts runs it.
//
//   npm run example:update:create-task (or: node examples/update_task_worker_with_skald_node/create-task-script.ts)
//
// Same configuration as skald-node.ts: SKALD_ID (the executor, default skald_123), MONGO_URL / MONGO_HOST + DB_NAME,
// KAFKA_BROKERS / KAFKA_HOST or SKALDS_BUS=redis-streams with REDIS_URL / REDIS_HOST; TASK_ID (default task_123).
import { openBus } from '../../src/bus/open.ts'
import { createTaskEvent, toWireTaskEvent } from '../../src/model/events.ts'
import { Topic } from '../../src/model/topics.ts'
import { TaskExistsError } from '../../src/store/errors.ts'
import { openTaskStore } from '../../src/store/open.ts'
import { exampleConfig, exampleVariable, orExit, PYTHON_EXAMPLE_SERVERS } from '../example-support.ts'
import { MySimpleDataModel, MySimpleWorker } from './my-simple-worker.ts'

const config = await orExit('create-task-script', () => exampleConfig({ SKALD_ID: 'skald_123', ...PYTHON_EXAMPLE_SERVERS }))
const taskId = exampleVariable('TASK_ID', 'task_123')
const executor = config.skald.id

const store = await openTaskStore(config.store)
try {
  const bus = await openBus(config)
  try {
    // The attachments go through the worker's own schema first, and are stored in its output form (the aliases).
    const attachments = MySimpleDataModel.parse({ rtspUrl: 'rtsp://example.com/stream', fixFrame: 10 })
    try {
      await store.create({ id: taskId, className: MySimpleWorker.className, source: 'TestingScript', attachments })
      console.log(`created task ${taskId} (${MySimpleWorker.className})`)
    } catch (error) {
      // As in Python, running the script again reuses the task: it is assigned (and so run) once more.
      if (!(error instanceof TaskExistsError)) throw error
      console.log(`task ${taskId} exists already; assigning it again`)
    }
    // Python's update_executor(task.id, skald_id); a claim also raises the task's ownership epoch, so a node still
    // running an earlier assignment of it stops.
    const claimed = await store.claim(taskId, { executor })
    await bus.publish(Topic.TaskAssign, taskId, toWireTaskEvent(createTaskEvent(taskId)))
    console.log(`assigned task ${taskId} to ${executor} (epoch ${claimed.runtime.epoch}) and published ${Topic.TaskAssign} on ${config.bus}`)
  } finally {
    await bus.close()
  }
} finally {
  await store.close()
}
