// The Skald state contract on the in-process backend, plus what only a movable clock can show (TTL expiry).
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createMemorySkaldStateBackend } from '../../src/state/memory.ts'
import { createSkaldStatePublisher, nextHeartbeat } from '../../src/state/publisher.ts'
import { createSkaldStateReader, parsePythonInt } from '../../src/state/reader.ts'
import { skaldStateContract } from '../contracts/skald-state-contract.ts'

skaldStateContract('memory', () => {
  const backend = createMemorySkaldStateBackend()
  return Promise.resolve({ backend, close: () => backend.close() })
})

void it('memory: a running heartbeat lapses after 8 s and reads 0; a terminal code lasts an hour', async () => {
  let now = 1_724_131_200_000
  const backend = createMemorySkaldStateBackend({ now: () => now })
  const publisher = createSkaldStatePublisher(backend, { now: () => now, sampleLoad: (b) => ({ ...b, cpuPercent: 0, rssMb: 0 }) })
  const reader = createSkaldStateReader(backend)
  await publisher.register({ skaldId: 'n1', mode: 'node', classNames: ['C'] })
  await publisher.startRun({ taskId: 'a', className: 'C', epoch: 1 })
  await publisher.startRun({ taskId: 'b', className: 'C', epoch: 1 })
  await publisher.endRun('b', 1, { status: 'finished' })
  now += 8_001
  const a = await reader.task('a')
  assert.equal(a.heartbeat, 0)
  assert.equal(a.heartbeatPresent, false)
  assert.equal((await reader.task('b')).heartbeat, 200)
  assert.equal((await reader.node('n1'))!.heartbeat, undefined, 'node heartbeat lapsed too')
  assert.equal((await reader.node('n1'))!.activityMs, 1_724_131_200_000)
  now += 3_600_000
  assert.equal((await reader.task('b')).heartbeatPresent, false)
  assert.equal(await reader.node('n1'), undefined)
  assert.deepEqual([...(await reader.activity()).keys()], [])
})

void it('nextHeartbeat stays in 0..199 and any 5 consecutive values are distinct', () => {
  let value = 195
  const values = [value]
  for (let i = 0; i < 10_000; i++) values.push((value = nextHeartbeat(value)))
  assert.ok(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 199))
  for (let i = 0; i + 5 <= values.length; i++) assert.equal(new Set(values.slice(i, i + 5)).size, 5)
})

void it('parsePythonInt reads what int() reads', () => {
  assert.equal(parsePythonInt('1724131200000'), 1724131200000)
  assert.equal(parsePythonInt(' -2 '), -2)
  assert.equal(parsePythonInt('+7'), 7)
  assert.equal(parsePythonInt('1_000'), 1000)
  for (const bad of ['1.7e12', '1724131200000.0', '', 'abc', '1__0', undefined]) assert.equal(parsePythonInt(bad), undefined, String(bad))
})

void it('a failed tick keeps the progress, checkpoint and log it carried for the next tick', async () => {
  const backend = createMemorySkaldStateBackend()
  let failNext = false
  const flaky = Object.create(backend) as typeof backend
  flaky.apply = (ops) => {
    if (failNext) {
      failNext = false
      return Promise.reject(Object.assign(new Error('redis down'), { code: 'E_SKALD_STATE_WRITE' }))
    }
    return backend.apply(ops)
  }
  const publisher = createSkaldStatePublisher(flaky, { sampleLoad: (b) => ({ ...b, cpuPercent: 0, rssMb: 0 }) })
  const reader = createSkaldStateReader(backend)
  await publisher.startRun({ taskId: 'a', className: 'C', epoch: 1 })
  publisher.progress('a', 1, 10)
  publisher.log('a', 1, ['one'])
  failNext = true
  await assert.rejects(publisher.tick(), { code: 'E_SKALD_STATE_WRITE' })
  publisher.log('a', 1, ['two'])
  await publisher.tick()
  const state = await reader.task('a')
  assert.equal(state.progress!.value, 10)
  assert.deepEqual(state.log, ['one', 'two'])
})

void it('memory: ticks keep the class schemas alive past their TTL; once expired, the next tick writes them again', async () => {
  let now = 1_724_131_200_000
  const backend = createMemorySkaldStateBackend({ now: () => now })
  const publisher = createSkaldStatePublisher(backend, { now: () => now, sampleLoad: (b) => ({ ...b, cpuPercent: 0, rssMb: 0 }) })
  const reader = createSkaldStateReader(backend)
  const schemas = { C: { type: 'object' } }
  await publisher.register({ skaldId: 'n1', mode: 'node', classNames: ['C'], classSchemas: schemas })
  for (let i = 0; i < 3; i++) {
    now += 3_000_000
    await publisher.tick()
  }
  assert.deepEqual((await reader.node('n1'))!.classSchemas, { C: { attachments: { type: 'object' }, timestamp: 1_724_131_200_000 } }, 'alive 9,000 s after the write')
  now += 3_600_001 // no tick for an hour: everything lapses
  assert.equal(await backend.getString('skalds:n1:ts:classes'), undefined)
  await publisher.tick()
  assert.deepEqual((await reader.node('n1'))!.classSchemas?.C?.attachments, { type: 'object' })
})
