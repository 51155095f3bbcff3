// The dispatch strategies as pure functions: LEAST_TASKS (ties to the lower id), ROUND_ROBIN (a rotation kept
// across calls, fair when nodes come and go), RANDOM (uniform over its input), LEAST_LOAD (share of capacity, then CPU).
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { nodeView } from '../helpers/node-view.ts'
import { type Candidate, createPicker, loadScore } from '../../src/controller/strategies.ts'

function candidate(id: string, running: number, load?: { capacity: number | null; cpu: number }): Candidate {
  const node = nodeView(id, {
    classNames: ['W'],
    load: load ? { capacity: load.capacity, running, classes: {}, draining: false, cpuPercent: load.cpu, rssMb: 50, timestamp: 0 } : undefined,
    history: load ? [{ at: 0, running, capacity: load.capacity, cpuPercent: load.cpu, rssMb: 50 }] : [],
  })
  return { node, running }
}

void it('LEAST_TASKS: the fewest running, ties to the lower id', () => {
  const pick = createPicker('LEAST_TASKS')
  assert.equal(pick.pick([candidate('b', 1), candidate('a', 3), candidate('c', 1)]).node.id, 'b')
  assert.equal(pick.pick([candidate('c', 0), candidate('a', 0)]).node.id, 'a')
})

void it('ROUND_ROBIN: the next id after the last one given a task, across calls and changes of the node set', () => {
  const pick = createPicker('ROUND_ROBIN')
  const abc = [candidate('c', 9), candidate('a', 0), candidate('b', 5)]
  assert.deepEqual([1, 2, 3, 4].map(() => pick.pick(abc).node.id), ['a', 'b', 'c', 'a'])
  // b leaves: after a comes c; a newcomer d takes its turn in id order.
  assert.equal(pick.pick([candidate('a', 0), candidate('c', 0)]).node.id, 'c')
  assert.equal(pick.pick([candidate('a', 0), candidate('c', 0), candidate('d', 0)]).node.id, 'd')
  assert.equal(pick.pick([candidate('a', 0), candidate('c', 0), candidate('d', 0)]).node.id, 'a')
})

void it('RANDOM: uniform over the eligible nodes', () => {
  const draws = [0, 0.34, 0.67, 0.99]
  const pick = createPicker('RANDOM', () => draws.shift()!)
  const cs = [candidate('a', 0), candidate('b', 0), candidate('c', 0)]
  assert.deepEqual([1, 2, 3, 4].map(() => pick.pick(cs).node.id), ['a', 'b', 'c', 'c'])
})

void it('LEAST_LOAD: the lowest share of capacity, CPU breaking near-ties; a node without load data counts as half busy', () => {
  const pick = createPicker('LEAST_LOAD')
  assert.equal(pick.pick([candidate('busy', 6, { capacity: 8, cpu: 10 }), candidate('idle', 1, { capacity: 8, cpu: 10 })]).node.id, 'idle')
  assert.equal(pick.pick([candidate('hot', 2, { capacity: 8, cpu: 95 }), candidate('cool', 2, { capacity: 8, cpu: 5 })]).node.id, 'cool')
  assert.equal(loadScore(candidate('python', 3)), 0.5)
  assert.equal(pick.pick([candidate('python', 0), candidate('idle', 0, { capacity: 8, cpu: 0 })]).node.id, 'idle')
})
