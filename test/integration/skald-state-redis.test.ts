// The Skald state contract on Redis 8, Redis 7.0 (emulated hash-field TTL) and the cluster, each under a unique key
// prefix; then, on a throwaway redis-server, the exact unprefixed Python key names and encodings, read with raw
// commands as the Python controller reads them, and the number of commands one tick costs.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { parseInfo } from '../../src/redis/features.ts'
import { createRedisSkaldStateBackend } from '../../src/state/redis.ts'
import { createSkaldStatePublisher } from '../../src/state/publisher.ts'
import { createSkaldStateReader } from '../../src/state/reader.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { RedisProcess } from '../helpers/redis-process.ts'
import { redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { skaldStateContract } from '../contracts/skald-state-contract.ts'

for (const target of redisTargets()) {
  skaldStateContract(target.name, async () => {
    const prefix = uniquePrefix('skald-state')
    const connection = await connectTarget(target, prefix)
    const backend = createRedisSkaldStateBackend(connection)
    return {
      backend,
      close: async () => {
        await backend.close()
        await deleteKeysWithPrefix(connection, prefix)
        await connection.close()
      },
    }
  })
}

// The emulation on a server that also has native TTLs: the same observable state either way.
skaldStateContract('redis8, emulated hash-field TTL', async () => {
  const target = redisTargets()[0]!
  const prefix = uniquePrefix('skald-state-emu')
  const connection = await connectTarget(target, prefix)
  const backend = createRedisSkaldStateBackend(connection, { hashFieldTtl: 'emulated' })
  return {
    backend,
    close: async () => {
      await backend.close()
      await deleteKeysWithPrefix(connection, prefix)
      await connection.close()
    },
  }
})

void describe('skald state on a throwaway Redis 8: the exact Python keys and values', () => {
  let server: RedisProcess
  let connection: RedisConnection
  let raw: RedisConnection
  before(async () => {
    server = await RedisProcess.start()
    connection = await RedisConnection.connect({ url: server.url, logger: silentLogger })
    raw = await RedisConnection.connect({ url: server.url, logger: silentLogger })
  })
  after(async () => {
    await connection?.close()
    await raw?.close()
    await server?.kill()
  })

  void it('reads back as the Python controller reads it (HGET int, HTTL ~3600, all-task bytes, LRANGE, TTLs)', async () => {
    const publisher = createSkaldStatePublisher(createRedisSkaldStateBackend(connection), {
      now: () => 1_724_131_200_123,
      sampleLoad: (base) => ({ ...base, cpuPercent: 2.5, rssMb: 91.2 }),
    })
    await publisher.register({ skaldId: 'skald-7', mode: 'node', classNames: ['VideoWorker', 'MyWorker'], capacity: 8, classSchemas: { VideoWorker: { type: 'object' }, MyWorker: null } })
    await publisher.startRun({ taskId: 'task-1', className: 'MyWorker', epoch: 1 })
    await publisher.startRun({ taskId: 'task-2', className: 'VideoWorker', epoch: 1 })
    await publisher.tick()

    const send = (...args: string[]) => raw.send(args)
    assert.equal(await send('HGET', 'skalds:hash', 'skald-7'), '1724131200123')
    assert.equal(Number.parseInt(String(await send('HGET', 'skalds:hash', 'skald-7')), 10), 1_724_131_200_123)
    const httl = (await send('HTTL', 'skalds:hash', 'FIELDS', '1', 'skald-7')) as number[]
    assert.ok(httl[0]! > 3590 && httl[0]! <= 3600, `HTTL ${httl[0]}`)
    assert.equal(await send('HGET', 'skalds:mode:hash', 'skald-7'), 'node')
    const modeTtl = (await send('HTTL', 'skalds:mode:hash', 'FIELDS', '1', 'skald-7')) as number[]
    assert.ok(modeTtl[0]! > 3590 && modeTtl[0]! <= 3600)
    assert.match(String(await send('GET', 'skalds:skald-7:heartbeat')), /^(1?\d{1,2}|19\d)$/)
    const nodeBeatTtl = Number(await send('TTL', 'skalds:skald-7:heartbeat'))
    assert.ok(nodeBeatTtl > 0 && nodeBeatTtl <= 8)
    assert.deepEqual(await send('LRANGE', 'skalds:skald-7:allow-task-class-name', '0', '-1'), ['VideoWorker', 'MyWorker'])
    assert.ok(Number(await send('TTL', 'skalds:skald-7:allow-task-class-name')) > 3590)
    assert.equal(
      await send('GET', 'skalds:skald-7:all-task'),
      '{"tasks":[{"id":"task-1","class_name":"MyWorker"},{"id":"task-2","class_name":"VideoWorker"}],"existed_task_ids":["task-1","task-2"],"timestamp":1724131200123}',
    )
    assert.ok(Number(await send('TTL', 'skalds:skald-7:all-task')) > 3590)
    assert.equal(
      await send('GET', 'skalds:skald-7:ts:load'),
      '{"capacity":8,"running":2,"classes":{"VideoWorker":{"capacity":null,"running":1},"MyWorker":{"capacity":null,"running":1}},"draining":false,"cpu_percent":2.5,"rss_mb":91.2,"timestamp":1724131200123}',
    )
    assert.equal(
      await send('GET', 'skalds:skald-7:ts:classes'),
      '{"VideoWorker":{"attachments":{"type":"object"},"timestamp":1724131200123},"MyWorker":{"attachments":null,"timestamp":1724131200123}}',
    )
    assert.ok(Number(await send('TTL', 'skalds:skald-7:ts:classes')) > 3590)
    for (const taskId of ['task-1', 'task-2']) {
      const beat = String(await send('GET', `task:${taskId}:heartbeat`))
      assert.match(beat, /^\d+$/)
      assert.ok(Number(beat) <= 199)
      const ttl = Number(await send('TTL', `task:${taskId}:heartbeat`))
      assert.ok(ttl > 0 && ttl <= 8)
      assert.equal(await send('GET', `task:${taskId}:exception`), '')
    }
    await publisher.endRun('task-1', 1, { status: 'failed', message: 'ValueError: bad frame' })
    assert.equal(await send('GET', 'task:task-1:heartbeat'), '-1')
    assert.ok(Number(await send('TTL', 'task:task-1:heartbeat')) > 3590)
    assert.equal(await send('GET', 'task:task-1:exception'), 'ValueError: bad frame')
    // Every key written is a Python key or one of our `:ts:` keys; nothing else.
    const keys = ((await send('KEYS', '*')) as string[]).sort()
    assert.deepEqual(keys, [
      'skalds:hash',
      'skalds:mode:hash',
      'skalds:skald-7:all-task',
      'skalds:skald-7:allow-task-class-name',
      'skalds:skald-7:heartbeat',
      'skalds:skald-7:ts:classes',
      'skalds:skald-7:ts:load',
      'task:task-1:exception',
      'task:task-1:heartbeat',
      'task:task-2:exception',
      'task:task-2:heartbeat',
    ])
    // And the reader agrees with the raw view.
    const node = (await createSkaldStateReader(createRedisSkaldStateBackend(connection)).node('skald-7'))!
    assert.equal(node.activityMs, 1_724_131_200_123)
    assert.deepEqual(node.allTasks.tasks, [{ id: 'task-2', className: 'VideoWorker' }])
    await publisher.close()
  })

  void it('one tick of 1,000 tasks is one MULTI/EXEC: one call on the connection, counted by the server too', async () => {
    const publisher = createSkaldStatePublisher(createRedisSkaldStateBackend(connection), { sampleLoad: (b) => ({ ...b, cpuPercent: 0, rssMb: 0 }) })
    // No class schemas: with them, a tick has one more command (their PEXPIRE), never their text.
    await publisher.register({ skaldId: 'skald-count', mode: 'node', classNames: ['Idle'] })
    for (let i = 0; i < 1000; i++) await publisher.startRun({ taskId: `idle-${i}`, className: 'Idle', epoch: 1 })
    await publisher.tick() // scripts now cached by the server; nothing lazy left

    // Count what leaves the client: every send and transaction of the publisher's connection.
    const calls: string[] = []
    const send = connection.send.bind(connection)
    const transaction = connection.transaction.bind(connection)
    connection.send = ((args, options) => {
      calls.push(`send ${String(args[0])}`)
      return send(args, options)
    })
    connection.transaction = ((commands, options) => {
      calls.push(`transaction of ${commands.length}`)
      return transaction(commands, options)
    })
    await raw.send(['CONFIG', 'RESETSTAT'])
    const ticks = 5
    const started = performance.now()
    try {
      for (let i = 0; i < ticks; i++) await publisher.tick()
    } finally {
      connection.send = send
      connection.transaction = transaction
    }
    const perTickMs = (performance.now() - started) / ticks
    const stats = parseInfo(String(await raw.send(['INFO', 'commandstats'])))
    const count = (name: string) => Number(/calls=(\d+)/.exec(stats.get(`cmdstat_${name}`) ?? '')?.[1] ?? 0)
    assert.deepEqual(calls, Array.from({ length: ticks }, () => 'transaction of 7'))
    assert.equal(count('multi'), ticks)
    assert.equal(count('exec'), ticks)
    // Per tick: 2 EVAL (hash fields) + SET heartbeat + EVAL list + SET all-task + SET load + 1 EVAL (1,000 beats).
    assert.equal(count('eval'), ticks * 4)
    assert.equal(count('set'), ticks * (3 + 1000)) // 3 node SETs + one SET per task inside the beat script
    assert.equal(count('get'), ticks * 1000) // the beat script's guard read
    console.log(`# 1,000-task tick on a local Redis 8: ${perTickMs.toFixed(1)} ms, 1 MULTI/EXEC, ${count('eval') / ticks} EVAL, 7 commands in the transaction`)
    await publisher.close()
  })
})
