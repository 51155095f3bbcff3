// The live hub without HTTP (in-memory sinks that can push back like a socket): event ids and frames, filters,
// resume from the ring and resync for a foreign or expired id, the per-client queue bound (events and bytes), and
// the counters. The sources on the in-process state: a publisher's writes become events, only on change.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LiveHub, LiveOptionsError, type LiveSink } from '../../src/controller/live/hub.ts'
import { createLiveSources, newLogLines, type LiveNodeView, type WatchedTask } from '../../src/controller/live/sources.ts'
import { createMemorySkaldStateBackend } from '../../src/state/memory.ts'
import { createSkaldStatePublisher } from '../../src/state/publisher.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'

/** A sink that accepts until `capacity` bytes are buffered, then pushes back until `drain()`. */
class MemorySink implements LiveSink {
  written: string[] = []
  buffered = 0
  capacity: number
  destroyed = false
  ended = false
  #drain: (() => void) | undefined
  constructor(capacity = Infinity) {
    this.capacity = capacity
  }
  write(chunk: string): boolean {
    this.written.push(chunk)
    this.buffered += Buffer.byteLength(chunk)
    return this.buffered < this.capacity
  }
  once(_event: 'drain', listener: () => void): this {
    this.#drain = listener
    return this
  }
  end(): this {
    this.ended = true
    return this
  }
  destroy(): this {
    this.destroyed = true
    return this
  }
  /** the reader caught up */
  drain(): void {
    this.buffered = 0
    const listener = this.#drain
    this.#drain = undefined
    listener?.()
  }
  frames(): Array<{ id?: string; data?: Record<string, unknown>; comment?: string }> {
    return this.written
      .join('')
      .split('\n\n')
      .filter(Boolean)
      .map((block) => {
        const frame: { id?: string; data?: Record<string, unknown>; comment?: string } = {}
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) frame.id = line.slice(4)
          else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Record<string, unknown>
          else if (line.startsWith(':')) frame.comment = line.slice(1)
        }
        return frame
      })
  }
  events(): Array<Record<string, unknown>> {
    return this.frames().flatMap((f) => (f.data && f.id && f.data.type !== 'connection' ? [f.data] : []))
  }
}

const beat = (skaldId: string, heartbeat: number) => ({ type: 'skald_heartbeat' as const, skaldId, data: { heartbeat, status: 'online' as const, tasks: [] }, timestamp: 1 })
const progress = (taskId: string, value: number) => ({ type: 'task_progress' as const, taskId, data: { value, message: null }, timestamp: 1 })

void describe('LiveHub', () => {
  void it('frames: id then compact JSON; ids carry the boot id and grow; the greeting carries the current id', () => {
    const hub = new LiveHub()
    hub.publish('skalds', beat('a', 1))
    const sink = new MemorySink()
    hub.connect({ stream: 'skalds', sink, greeting: { type: 'connection', message: 'Connected to Skalds events' } })
    const id = hub.publish('skalds', beat('a', 2))
    assert.match(id, new RegExp(`^${hub.bootId}-2$`))
    assert.equal(sink.written.join(''), `id: ${hub.bootId}-1\ndata: {"type":"connection","message":"Connected to Skalds events"}\n\nid: ${id}\ndata: {"type":"skald_heartbeat","skaldId":"a","data":{"heartbeat":2,"status":"online","tasks":[]},"timestamp":1}\n\n`)
    assert.notEqual(new LiveHub().bootId, hub.bootId)
  })

  void it('filters: skald_id on skalds; task_id and the executor on tasks; both must match; no event twice', () => {
    const hub = new LiveHub()
    const all = new MemorySink()
    const skaldA = new MemorySink()
    const taskT = new MemorySink()
    const execA = new MemorySink()
    const taskTonB = new MemorySink()
    hub.connect({ stream: 'skalds', sink: all })
    hub.connect({ stream: 'skalds', sink: skaldA, filter: { skaldId: 'A' } })
    hub.connect({ stream: 'tasks', sink: taskT, filter: { taskId: 'T' } })
    hub.connect({ stream: 'tasks', sink: execA, filter: { skaldId: 'A' } })
    hub.connect({ stream: 'tasks', sink: taskTonB, filter: { taskId: 'T', skaldId: 'B' } })
    hub.publish('skalds', beat('A', 1))
    hub.publish('skalds', beat('B', 1))
    hub.publish('tasks', progress('T', 10), 'A')
    hub.publish('tasks', progress('U', 20), 'A')
    hub.publish('tasks', progress('T', 30), null)
    assert.deepEqual(all.events().map((e) => e.skaldId), ['A', 'B'])
    assert.deepEqual(skaldA.events().map((e) => e.skaldId), ['A'])
    assert.deepEqual(taskT.events().map((e) => (e.data as { value: number }).value), [10, 30])
    assert.deepEqual(execA.events().map((e) => (e.data as { value: number }).value), [10, 20])
    assert.deepEqual(taskTonB.events(), [])
    assert.deepEqual(hub.stats().clients, { skalds: 2, tasks: 3 })
    assert.throws(() => hub.publish('skalds', progress('T', 1) as never), LiveOptionsError)
  })

  void it('resume: the events after Last-Event-ID that match the filter, once; a foreign id or one from the future gets a resync', () => {
    const hub = new LiveHub()
    const first = new MemorySink()
    const client = hub.connect({ stream: 'tasks', sink: first, filter: { taskId: 'T' } })
    hub.publish('tasks', progress('T', 1))
    const last = first.frames().at(-1)!.id!
    client.detach()
    hub.publish('tasks', progress('T', 2))
    hub.publish('tasks', progress('U', 3))
    hub.publish('skalds', beat('A', 1))
    hub.publish('tasks', progress('T', 4))
    const again = new MemorySink()
    const resumed = hub.connect({ stream: 'tasks', sink: again, filter: { taskId: 'T' }, lastEventId: last, greeting: { type: 'connection' } })
    hub.publish('tasks', progress('T', 5))
    assert.equal(resumed.resume, 'replayed')
    assert.equal(resumed.replayed, 2)
    assert.equal(again.frames()[0]!.id, undefined, 'a resumed greeting keeps the client its own id')
    assert.deepEqual(again.events().map((e) => (e.data as { value: number }).value), [2, 4, 5])
    for (const foreign of ['0a0a0a0a0a0a-3', `${hub.bootId}-99`, 'garbage', `${hub.bootId}-x`]) {
      const sink = new MemorySink()
      assert.equal(hub.connect({ stream: 'tasks', sink, lastEventId: foreign }).resume, 'resync-foreign')
      const resync = sink.frames().at(-1)!
      assert.equal(resync.data!.type, 'resync')
      assert.equal(resync.id, hub.stats().lastEventId)
    }
    assert.equal(hub.stats().eventsReplayed, 2)
    assert.equal(hub.stats().resyncs, 4)
  })

  void it('the ring is bounded by count, bytes and age per stream; an id older than what it lost gets a resync', () => {
    let now = 1000
    const hub = new LiveHub({ replayMaxEvents: 3, replayMaxAgeMs: 10_000, now: () => now })
    const ids = [1, 2, 3, 4, 5].map((v) => hub.publish('tasks', progress('T', v)))
    hub.publish('skalds', beat('A', 1)) // another stream's ring: it does not push tasks out
    assert.deepEqual(hub.stats().replayEvents, { skalds: 1, tasks: 3 })
    assert.equal(hub.connect({ stream: 'tasks', sink: new MemorySink(), lastEventId: ids[0] }).resume, 'resync-expired')
    const ok = new MemorySink()
    hub.connect({ stream: 'tasks', sink: ok, lastEventId: ids[1] })
    assert.deepEqual(ok.events().map((e) => (e.data as { value: number }).value), [3, 4, 5])
    now += 10_001
    assert.equal(hub.connect({ stream: 'tasks', sink: new MemorySink(), lastEventId: ids[3] }).resume, 'resync-expired')
    // Up to date: nothing was lost, nothing to replay.
    assert.equal(hub.connect({ stream: 'tasks', sink: new MemorySink(), lastEventId: ids[4] }).resume, 'replayed')
    // The byte bound: one large event pushes the older ones out.
    const bytes = new LiveHub({ replayMaxBytes: 4096 })
    const small = bytes.publish('tasks', progress('T', 1))
    bytes.publish('tasks', { type: 'task_log', taskId: 'T', data: { lines: ['x'.repeat(4000)] }, timestamp: 1 })
    assert.deepEqual(bytes.stats().replayEvents.tasks, 1)
    assert.ok(bytes.stats().replayBytes.tasks <= 4096)
    assert.equal(bytes.connect({ stream: 'tasks', sink: new MemorySink(), lastEventId: small }).resume, 'replayed')
    bytes.publish('tasks', { type: 'task_log', taskId: 'T', data: { lines: ['y'.repeat(5000)] }, timestamp: 1 })
    assert.equal(bytes.connect({ stream: 'tasks', sink: new MemorySink(), lastEventId: small }).resume, 'resync-expired')
    assert.throws(() => new LiveHub({ replayMaxEvents: -1 }), /replayMaxEvents/)
    assert.throws(() => new LiveHub({ clientMaxQueuedBytes: 10 }), /clientMaxQueuedBytes/)
  })

  void it('a client that pushes back queues up to its bound, catches up on drain, and past the bound is dropped alone', () => {
    const hub = new LiveHub({ clientMaxQueuedEvents: 5, clientMaxQueuedBytes: 1_000_000 })
    const fast = new MemorySink()
    const slow = new MemorySink(1) // pushes back from its first write
    hub.connect({ stream: 'tasks', sink: fast })
    const slowClient = hub.connect({ stream: 'tasks', sink: slow })
    for (let v = 1; v <= 5; v++) hub.publish('tasks', progress('T', v))
    assert.equal(slow.written.length, 1, 'one write reached the socket, four wait in the queue')
    slow.drain()
    assert.equal(slow.written.length, 2, 'the queue goes out as one write')
    assert.deepEqual(slow.events().map((e) => (e.data as { value: number }).value), [1, 2, 3, 4, 5])
    for (let v = 6; v <= 12; v++) hub.publish('tasks', progress('T', v))
    assert.equal(slow.destroyed, true)
    assert.equal(slowClient.closed, true)
    assert.equal(fast.events().length, 12)
    assert.deepEqual(hub.stats().clients, { skalds: 0, tasks: 1 })
    assert.equal(hub.stats().droppedClients, 1)
    // The byte bound alone.
    const small = new LiveHub({ clientMaxQueuedBytes: 2048 })
    const stuck = new MemorySink(1)
    small.connect({ stream: 'tasks', sink: stuck })
    const line = 'x'.repeat(600)
    for (let i = 0; i < 5; i++) small.publish('tasks', { type: 'task_log', taskId: 'T', data: { lines: [line] }, timestamp: 1 })
    assert.equal(stuck.destroyed, true)
    assert.equal(small.stats().droppedClients, 1)
  })

  void it('keep-alive comments are written only to clients that are not backed up; end() ends the response', () => {
    const hub = new LiveHub()
    const idle = new MemorySink()
    const stuck = new MemorySink(1)
    const a = hub.connect({ stream: 'skalds', sink: idle })
    const b = hub.connect({ stream: 'skalds', sink: stuck, greeting: { type: 'connection' } })
    a.comment('keepalive')
    b.comment('keepalive')
    assert.equal(idle.written.join(''), ':keepalive\n\n')
    assert.equal(stuck.written.length, 1)
    a.end()
    assert.equal(idle.ended, true)
    assert.equal(hub.clientCount(), 1)
  })
})

void it('newLogLines: only what was appended, across the window sliding', () => {
  assert.deepEqual(newLogLines([], ['a', 'b']), ['a', 'b'])
  assert.deepEqual(newLogLines(['a', 'b'], ['a', 'b']), [])
  assert.deepEqual(newLogLines(['a', 'b'], ['a', 'b', 'c']), ['c'])
  assert.deepEqual(newLogLines(['a', 'b', 'c'], ['b', 'c', 'd']), ['d'])
  assert.deepEqual(newLogLines(['a', 'b', 'c'], ['c', 'd', 'e']), ['d', 'e'])
  assert.deepEqual(newLogLines(['a', 'b', 'c'], ['x', 'y', 'z']), ['x', 'y', 'z'])
  assert.deepEqual(newLogLines(['a', 'b'], []), [])
})

void describe('createLiveSources (in-process state)', () => {
  void it('publishes node and task changes only when they change; log lines once; task reads only while someone listens', async () => {
    const backend = createMemorySkaldStateBackend()
    const reader = createSkaldStateReader(backend)
    const publisher = createSkaldStatePublisher(backend, { sampleLoad: (b) => ({ ...b, cpuPercent: 0, rssMb: 0 }) })
    await publisher.register({ skaldId: 'n1', mode: 'node', classNames: ['C'] })
    await publisher.startRun({ taskId: 'T1', className: 'C', epoch: 1 })
    const hub = new LiveHub()
    let nodes: LiveNodeView[] = [{ id: 'n1', online: true, taskIds: ['T1'], activityMs: 5, heartbeat: 7 }]
    const watched: WatchedTask[] = [{ id: 'T1', executor: 'n1', lifecycleStatus: 'Running' }]
    let reads = 0
    const counting = { ...reader, task: (id: string) => (reads++, reader.task(id)) }
    const sources = createLiveSources({ hub, reader: counting, nodes: () => nodes, activeTaskIds: () => watched })
    const skalds = new MemorySink()
    hub.connect({ stream: 'skalds', sink: skalds })

    await sources.tick()
    assert.equal(reads, 0, 'no tasks client: no task reads')
    assert.deepEqual(skalds.events().map((e) => e.type), ['skald_status', 'skald_heartbeat'])
    await sources.tick()
    assert.equal(skalds.events().length, 2, 'nothing changed, nothing sent')
    nodes = [{ ...nodes[0]!, heartbeat: 8 }]
    await sources.tick()
    nodes = [{ ...nodes[0]!, online: false }]
    await sources.tick()
    nodes = []
    await sources.tick()
    assert.deepEqual(skalds.events().slice(2).map((e) => [e.type, (e.data as { status: string }).status]), [
      ['skald_heartbeat', 'online'],
      ['skald_status', 'offline'],
      ['skald_status', 'offline'],
    ])
    assert.deepEqual(skalds.events().at(-1)!.data, { status: 'offline', taskCount: 0 })

    const tasks = new MemorySink()
    hub.connect({ stream: 'tasks', sink: tasks, filter: { skaldId: 'n1' } })
    await sources.tick()
    assert.deepEqual(tasks.events().map((e) => e.type), ['task_heartbeat'])
    await sources.tick()
    assert.equal(tasks.events().length, 1, 'the heartbeat did not change between ticks')
    publisher.progress('T1', 1, 40, 'halfway')
    publisher.log('T1', 1, ['line 1', 'line 2'])
    await publisher.tick()
    await sources.tick()
    publisher.log('T1', 1, ['line 3'])
    await publisher.tick()
    await sources.tick()
    await sources.tick()
    const later = tasks.events().slice(1).filter((e) => e.type !== 'task_heartbeat')
    assert.deepEqual(later, [
      { type: 'task_progress', taskId: 'T1', data: { value: 40, message: 'halfway' }, timestamp: later[0]!.timestamp },
      { type: 'task_log', taskId: 'T1', data: { lines: ['line 1', 'line 2'] }, timestamp: later[1]!.timestamp },
      { type: 'task_log', taskId: 'T1', data: { lines: ['line 3'] }, timestamp: later[2]!.timestamp },
    ])
    await publisher.endRun('T1', 1, { status: 'failed', message: 'boom' })
    await sources.tick()
    const end = tasks.events().slice(-2)
    assert.deepEqual(end.map((e) => e.type).sort(), ['task_exception', 'task_heartbeat'])
    assert.deepEqual(end.find((e) => e.type === 'task_heartbeat')!.data, { heartbeat: -1, lifecycleStatus: 'Running' })
    assert.deepEqual(end.find((e) => e.type === 'task_exception')!.data, { exception: 'boom', lifecycleStatus: 'Running' })
    await sources.stop()
    await publisher.close()
  })

  void it('watches at most maxTasks and rejects options that cannot work', async () => {
    const backend = createMemorySkaldStateBackend()
    const hub = new LiveHub()
    hub.connect({ stream: 'tasks', sink: new MemorySink() })
    const many = Array.from({ length: 7 }, (_, i): WatchedTask => ({ id: `T${i}`, executor: null, lifecycleStatus: 'Running' }))
    const sources = createLiveSources({ hub, reader: createSkaldStateReader(backend), nodes: () => [], activeTaskIds: () => Promise.resolve(many), maxTasks: 5 })
    const report = await sources.tick()
    assert.deepEqual([report.tasksRead, report.tasksOverLimit], [5, 2])
    assert.throws(() => createLiveSources({ hub, reader: createSkaldStateReader(backend), nodes: () => [], activeTaskIds: () => [], intervalMs: 0 }), /intervalMs/)
  })
})
