// The Kafka partition assigner the bus installs: partitions of a topic go only to members subscribed to it
// (a Skald node's group has one member per topic), evenly, and every partition exactly once.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka'
import { subscriptionAwareAssigner } from '../../src/bus/kafka.ts'

function metadata(partitions: Record<string, number>): ClusterMetadata {
  const topics = new Map(Object.entries(partitions).map(([name, count]) => [name, { id: name, partitions: [], partitionsCount: count, lastUpdate: 0 }]))
  return { id: 'c', brokers: new Map(), controllerId: 1, topics, lastUpdate: 0 }
}

function members(spec: Record<string, string[]>): Map<string, ExtendedGroupProtocolSubscription> {
  return new Map(Object.entries(spec).map(([memberId, topics]) => [memberId, { memberId, topics, version: 0 }]))
}

function owners(result: ReturnType<typeof subscriptionAwareAssigner>): Map<string, string[]> {
  const byPartition = new Map<string, string[]>()
  for (const member of result) {
    for (const assignment of member.assignments.values()) {
      for (const p of assignment.partitions) {
        const id = `${assignment.topic}/${p}`
        byPartition.set(id, [...(byPartition.get(id) ?? []), member.memberId])
      }
    }
  }
  return byPartition
}

void it('gives each topic only to its subscribers, whatever topics the leader itself has', () => {
  const group = members({ assign: ['task.assign'], cancel: ['task.cancel'], attach: ['task.update.attachment'] })
  const meta = metadata({ 'task.assign': 3, 'task.cancel': 2, 'task.update.attachment': 1 })
  const result = subscriptionAwareAssigner('assign', group, new Set(['task.assign']), meta)
  const byPartition = owners(result)
  assert.equal(byPartition.size, 6, 'every partition of every subscribed topic is assigned')
  for (const [partition, who] of byPartition) {
    assert.equal(who.length, 1, `${partition} has one owner`)
    const topic = partition.split('/')[0]!
    assert.ok(group.get(who[0]!)!.topics!.includes(topic), `${partition} went to ${who[0]!}, a subscriber`)
  }
})

void it('spreads a shared topic evenly over its subscribers', () => {
  const group = members({ a: ['t'], b: ['t'], c: ['t', 'u'] })
  const result = subscriptionAwareAssigner('a', group, new Set(['t']), metadata({ t: 6, u: 2 }))
  const counts = new Map(result.map((m) => [m.memberId, [...m.assignments.values()].reduce((n, a) => n + a.partitions.length, 0)]))
  assert.deepEqual([...owners(result).values()].map((w) => w.length), Array(8).fill(1))
  assert.equal(counts.get('a'), 2)
  assert.equal(counts.get('b'), 2)
  assert.equal(counts.get('c'), 4, 'c has two of t and both of u')
})
