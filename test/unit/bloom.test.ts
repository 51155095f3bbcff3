// The Bloom contract on the in-process filter, and the sizing formulas.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryBloom } from '../../src/coordination/bloom/index.ts'
import { bitPositions, bloomParams } from '../../src/coordination/bloom/params.ts'
import { bloomContract } from '../contracts/bloom-contract.ts'

bloomContract('memory', () => {
  const filters = new MemoryBloom()
  return Promise.resolve({ filters, other: filters, cleanup: () => Promise.resolve() })
})

void test('sizing: m = -n ln p / ln2², k = round(m/n ln 2)', () => {
  assert.deepEqual(bloomParams({ capacity: 10_000, errorRate: 0.01 }), { capacity: 10_000, errorRate: 0.01, bits: 95_851, hashes: 7 })
  assert.deepEqual(bloomParams({ capacity: 1, errorRate: 0.5 }), { capacity: 1, errorRate: 0.5, bits: 2, hashes: 1 })
})

void test('bit positions are k distinct-enough values below m, stable across calls', () => {
  const positions = bitPositions('workflow-1', 95_851, 7)
  assert.equal(positions.length, 7)
  assert.ok(positions.every((p) => Number.isInteger(p) && p >= 0 && p < 95_851))
  assert.deepEqual(bitPositions('workflow-1', 95_851, 7), positions)
  assert.ok(new Set(positions).size >= 6)
})
