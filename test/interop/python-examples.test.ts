// Interop 2: the Python Skalds' own example scripts (skalds 0.3.8 sdist, examples/update_task_worker_with_skald_node:
// create_task_script.py, update_task_script.py, and the my_simple_worker.py they import) drive our node-mode Skald
// running our port of MySimpleWorker (examples/update_task_worker_with_skald_node/skald-node.ts), on Redis 8, the
// Kafka 3.9 broker and MongoDB.
//
// The scripts run unchanged but for their connection constants, which they hard-code (Kafka `port=9092`, MongoDB
// "mongodb://root:root@localhost:27017/"): the test copies the three files into a temporary folder and replaces
// exactly those two literals (each must occur exactly once per script, so a changed script fails here rather than
// silently running against another server). Their database is Skalds' DB_NAME variable, which SystemConfig reads from
// the environment (no edit). Their ids are fixed (task_123, executor skald_123), so our node is skald_123, and the
// run is isolated by its own database; two runs of this file at the same moment on one Redis would meet.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { MongoClient } from 'mongodb'
import { kafka39Brokers, ourEnv, PeerProcess, pythonEnv, pythonExamples, runPython, waitGroupReady } from '../helpers/python-peer.ts'
import { mongoUrl } from '../helpers/servers.ts'

const EXAMPLE = 'update_task_worker_with_skald_node'
const OUR_NODE = fileURLToPath(new URL(`../../examples/${EXAMPLE}/skald-node.ts`, import.meta.url))
const run = randomBytes(4).toString('hex')
const dbName = `interop_examples_${run}`
const children: PeerProcess[] = []
let dir: string
let node: PeerProcess
let scripts: string

/** Copies a script, replacing only its connection literals (each exactly once). */
function copyScript(name: string, replacements: Array<[string, string]>): void {
  let text = readFileSync(join(pythonExamples(), EXAMPLE, name), 'utf8')
  for (const [from, to] of replacements) {
    const count = text.split(from).length - 1
    assert.equal(count, 1, `${name}: expected the connection literal ${from} exactly once, found ${count}`)
    text = text.replace(from, to)
  }
  writeFileSync(join(scripts, name), text)
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skalds-interop-examples-'))
  scripts = join(dir, 'scripts')
  const kafkaPort = kafka39Brokers().split(',')[0]!.split(':').at(-1)!
  const connection: Array<[string, string]> = [
    ['port=9092,', `port=${kafkaPort},`],
    ['"mongodb://root:root@localhost:27017/"', JSON.stringify(mongoUrl())],
  ]
  mkdirSync(scripts)
  copyScript('create_task_script.py', connection)
  copyScript('update_task_script.py', connection)
  copyScript('my_simple_worker.py', []) // imported by both for MySimpleDataModel, unchanged
  node = new PeerProcess(
    'our skald-node.ts',
    process.execPath,
    [OUR_NODE],
    { env: ourEnv({ dbName, extra: { SKALD_ID: 'skald_123', LOG_LEVEL: 'info' } }), cwd: dir },
    children,
  )
  await node.waitLine(/^\[skald\] node Skald skald_123 waiting for tasks on kafka/, 'our node to start', 60_000)
  await waitGroupReady(kafka39Brokers(), (g) => g === 'skalds-node-skald_123', "our node's consumer group")
})

after(() => {
  for (const p of children) p.kill()
  rmSync(dir, { recursive: true, force: true })
})

void describe("interop: the Python example scripts drive our node's MySimpleWorker", () => {
  void it('create_task_script.py starts task_123 on our node; update_task_script.py reaches its update hook', async () => {
    const env = pythonEnv({ dbName, logPath: join(dir, 'py-logs') })
    await runPython('create_task_script.py', join(scripts, 'create_task_script.py'), [], { env, cwd: scripts }, children)
    const started = await node.waitLine(/^\[task_123\] RTSP URL: /, 'the worker to run task_123', 60_000)
    assert.equal(started, '[task_123] RTSP URL: rtsp://example.com/stream, Fix Frame: 10')

    // What the script stored, as our store sees it (Python's Task model through its repository: aliases, Int64 times).
    const mongo = await MongoClient.connect(mongoUrl())
    try {
      const doc = await mongo.db(dbName).collection('tasks').findOne({ id: 'task_123' })
      assert.ok(doc, 'task_123 in MongoDB')
      assert.equal(doc.className, 'MySimpleWorker')
      assert.equal(doc.executor, 'skald_123')
      assert.deepEqual(doc.attachments, { rtspUrl: 'rtsp://example.com/stream', fixFrame: 10 })
    } finally {
      await mongo.close()
    }

    const from = node.lines.length
    await runPython('update_task_script.py', join(scripts, 'update_task_script.py'), [], { env, cwd: scripts }, children)
    await node.waitLine(/^\[task_123\] Updating MyWorker with RTSP URL: rtsp:\/\/example\.com\/new_stream, Fix Frame: 60$/, 'the update hook', 30_000, from)
    await node.waitLine(/^\[task_123\] RTSP URL: rtsp:\/\/example\.com\/new_stream, Fix Frame: 60$/, 'main to read the new attachments', 10_000, from)
  })
})
