// The Redis Streams bus against the Event Queue contract on Redis 8, Redis 7.0 and a Redis Cluster, plus what only a
// real server shows: a member killed with SIGKILL, a server restart mid-stream, partition leases spreading out.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { RedisConnection } from '../../src/redis/connection.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import type { BusEvent } from '../../src/bus/types.ts'
import { redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { busContract, uniqueTopic } from '../contracts/bus-contract.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { retry, sleep, waitFor } from '../helpers/wait.ts'

const connections: RedisConnection[] = []
const buses: RedisStreamsBus[] = []
after(async () => {
  // Buses first (they stop their loops and release leases), then their connections.
  await Promise.all(buses.map((b) => b.close()))
  await Promise.all(connections.map((c) => c.close()))
})

function track(bus: RedisStreamsBus): RedisStreamsBus {
  buses.push(bus)
  return bus
}

async function connect(target: { url?: string; clusterNodes?: string[] }, keyPrefix: string, extra: { url?: string } = {}): Promise<RedisConnection> {
  const connection = await RedisConnection.connect({
    ...(extra.url ? { url: extra.url } : target.url ? { url: target.url } : { cluster: { nodes: target.clusterNodes! } }),
    keyPrefix,
    commandTimeoutMs: 3000,
    logger: silentLogger,
  })
  connections.push(connection)
  return connection
}

for (const target of redisTargets()) {
  const prefix = uniquePrefix(`bus-${target.name}`)
  let probe: RedisStreamsBus | undefined
  busContract({
    name: `redis-streams on ${target.name}`,
    create: async () => track(new RedisStreamsBus({ connection: await connect(target, prefix), leaseMs: 1500, blockMs: 200, logger: silentLogger })),
    countsRedeliveries: true,
    settled: async (topic, group, members) => {
      probe ??= track(new RedisStreamsBus({ connection: await connect(target, prefix), logger: silentLogger }))
      return leasesSettled(probe, topic, group, members)
    },
    // A member hands a lease back only between two reads, never with an entry of it in hand.
    redeliversOnRebalance: false,
  })
}

/**
 * Whether the members of `group` have settled the leases of `topic`: all of them registered, every partition
 * leased, nobody over its fair share (so nobody is about to hand a partition over).
 */
async function leasesSettled(bus: RedisStreamsBus, topic: string, group: string, members: number): Promise<boolean> {
  const keys = bus.keys(topic)
  const memberSet = keys.members(group)
  if (Number(await bus.connection.send(['ZCARD', memberSet], { key: memberSet })) !== members) return false
  const partitions = await bus.partitionCount(topic)
  const held = new Map<string, number>()
  for (let p = 0; p < partitions; p++) {
    const lease = keys.lease(group, p)
    const owner = await bus.connection.send<string | null>(['GET', lease], { key: lease })
    if (owner === null) return false
    held.set(owner, (held.get(owner) ?? 0) + 1)
  }
  return [...held.values()].every((n) => n <= Math.ceil(partitions / members))
}

const redis8 = redisTargets()[0]!

void describe('redis-streams: engine specifics', () => {
  void it('spreads partitions over members with leases and stores the partition count with the topic', async () => {
    const prefix = uniquePrefix('bus-lease')
    const topic = uniqueTopic('lease')
    // A lease long enough that a loaded machine's pauses never let one expire: the split must stay put once made.
    const connection = await connect(redis8, prefix)
    const a = track(new RedisStreamsBus({ connection, partitions: 6, lease: '3s', block: 100, logger: silentLogger }))
    const b = track(new RedisStreamsBus({ connection: await connect(redis8, prefix), partitions: 2, lease: '3s', block: 100, logger: silentLogger }))
    const byMember = new Map<string, Set<string>>()
    const handler = (member: string) => (e: BusEvent) => {
      const partition = e.id.split('/')[0]!
      byMember.set(member, (byMember.get(member) ?? new Set()).add(partition))
    }
    await a.subscribe(topic, 'g', handler('a'))
    await b.subscribe(topic, 'g', handler('b'))
    assert.equal(await b.partitionCount(topic), 6, 'the first bus fixed the count')
    // Wait until the leases have evened out (3 partitions each, as Redis records them), then publish over many keys:
    // a member gives a partition's lease back only after it stopped reading it, so the split is final from then on.
    const owners = async (): Promise<Map<string, number>> => {
      const byOwner = new Map<string, number>()
      for (let p = 0; p < 6; p++) {
        const owner = await connection.send<string | null>(['GET', a.keys(topic).lease('g', p)])
        if (owner !== null) byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1)
      }
      return byOwner
    }
    await waitFor(async () => {
      const counts = [...(await owners()).values()]
      return counts.length === 2 && counts.every((n) => n === 3)
    }, 'two members holding 3 leases each', 20_000, 100)
    for (let i = 0; i < 120; i++) await a.publish(topic, `key-${i}`, i)
    await waitFor(() => (byMember.get('a')?.size ?? 0) + (byMember.get('b')?.size ?? 0) >= 6, 'both members busy', 20_000)
    const pa = byMember.get('a')!
    const pb = byMember.get('b')!
    assert.equal([...pa].filter((p) => pb.has(p)).length, 0, `disjoint partitions: a=${[...pa].join()} b=${[...pb].join()}`)
    assert.equal(pa.size, 3)
    assert.equal(pb.size, 3)
    await a.close()
    await b.close()
  })

  void it('bounds each partition stream with MAXLEN ~', async () => {
    const prefix = uniquePrefix('bus-maxlen')
    const connection = await connect(redis8, prefix)
    const bus = track(new RedisStreamsBus({ connection, partitions: 1, maxLen: 100, logger: silentLogger }))
    const topic = uniqueTopic('maxlen')
    for (let i = 0; i < 1000; i++) await bus.publish(topic, 'k', i)
    const length = Number(await connection.send(['XLEN', bus.keys(topic).stream(0)]))
    assert.ok(length >= 100 && length < 400, `XLEN ${length} is about 100`)
    await bus.close()
  })

  void it('a member killed with SIGKILL: its unacknowledged event goes to another member once its lease expires', async () => {
    const prefix = uniquePrefix('bus-kill')
    const topic = uniqueTopic('kill')
    const child = spawnChild(['--url', redis8.url!, '--prefix', prefix, '--topic', topic, '--group', 'g'])
    try {
      await waitForLine(child, 'subscribed')
      const survivor = track(new RedisStreamsBus({ connection: await connect(redis8, prefix), leaseMs: 1500, blockMs: 200, logger: silentLogger }))
      const seen: BusEvent<{ n: number }>[] = []
      await survivor.subscribe<{ n: number }>(topic, 'g', (e) => void seen.push(e))
      // The child holds every partition (it came first); wait until it handles our event, then kill it mid-handler.
      const publisher = track(new RedisStreamsBus({ connection: await connect(redis8, prefix), logger: silentLogger }))
      let childGotIt = false
      for (let n = 0; !childGotIt; n++) {
        await publisher.publish(topic, `job-${n}`, { n })
        childGotIt = await waitForLine(child, 'received', 1000).then(() => true, () => false)
        if (!childGotIt && seen.length > 0) seen.length = 0 // went to the survivor's partitions: try another key
        assert.ok(n < 50, 'the child never received an event')
      }
      child.kill('SIGKILL')
      await waitFor(() => seen.length > 0, 'the killed member\'s event at the survivor', 20_000)
      assert.ok(seen[0]!.attempt >= 2, `attempt ${seen[0]!.attempt} counts the lost delivery`)
      await survivor.close()
      await publisher.close()
    } finally {
      child.kill('SIGKILL')
    }
  })

  void it('a server restart mid-stream (AOF, appendfsync always) loses no event', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skalds-bus-redis-'))
    const server = await RedisProcess.start(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'])
    t.after(async () => {
      await server.kill()
      rmSync(dir, { recursive: true, force: true })
    })
    const connection = await RedisConnection.connect({ url: server.url, commandTimeoutMs: 3000, logger: silentLogger })
    connections.push(connection)
    const bus = track(new RedisStreamsBus({ connection, leaseMs: 1500, blockMs: 200, logger: silentLogger }))
    const topic = uniqueTopic('restart')
    const handled = new Map<number, number>()
    await bus.subscribe<number>(topic, 'g', async (e) => {
      await sleep(2)
      handled.set(e.payload, (handled.get(e.payload) ?? 0) + 1)
    })
    const total = 300
    const published: number[] = []
    let restarted = false
    for (let i = 0; i < total; i++) {
      if (i === 100) {
        await waitFor(() => handled.size >= 20, 'some events handled before the restart', 20_000)
        // SIGTERM = SHUTDOWN (the AOF is already fsynced on every write).
        await server.stop()
        await server.restart()
        restarted = true
      }
      // The bus does not buffer: while the server is down publish rejects, and the producer retries.
      await retry(() => bus.publish(topic, `k${i % 7}`, i), `publishing event ${i}`, 30_000, 100)
      published.push(i)
    }
    assert.ok(restarted)
    await waitFor(() => handled.size === total, `all ${total} events handled after the restart`, 30_000)
    assert.deepEqual([...handled.keys()].sort((a, b) => a - b), published)
    await bus.close()
  })
})

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, [new URL('./fixtures/bus-redis-member.ts', import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
}

const lineBuffers = new WeakMap<ChildProcess, string[]>()
async function waitForLine(child: ChildProcess, line: string, timeoutMs = 20_000): Promise<void> {
  if (!lineBuffers.has(child)) {
    const lines: string[] = []
    lineBuffers.set(child, lines)
    let partial = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      partial += chunk.toString()
      const parts = partial.split('\n')
      partial = parts.pop()!
      lines.push(...parts)
    })
  }
  const lines = lineBuffers.get(child)!
  await waitFor(() => {
    const index = lines.indexOf(line)
    if (index < 0) return false
    lines.splice(index, 1)
    return true
  }, `child line ${line}`, timeoutMs)
}
