// The Bloom filter contract: in-process, Lua on plain Redis (8, 7.0, cluster); native RedisBloom where present.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { BloomConfigMismatchError, BloomNotFoundError, type BloomFilters } from '../../src/coordination/bloom/index.ts'

export interface BloomTarget {
  filters: BloomFilters
  /** a second factory on another connection to the same store (same process for memory) */
  other: BloomFilters
  cleanup(): Promise<void>
}

/** Measures the false-positive rate at capacity; exported so the report and docs quote the same numbers. */
export async function measureFpr(filters: BloomFilters, name: string, capacity: number, errorRate: number, probes: number): Promise<number> {
  const filter = await filters.create(name, { capacity, errorRate })
  const members = Array.from({ length: capacity }, (_, i) => `member-${i}`)
  await filter.addMany(members)
  const present = await filter.existsMany(members)
  assert.ok(present.every(Boolean), 'no false negatives: every added item exists')
  const outsiders = Array.from({ length: probes }, (_, i) => `outsider-${i}`)
  const hits = (await filter.existsMany(outsiders)).filter(Boolean).length
  await filter.delete()
  return hits / probes
}

export function bloomContract(name: string, factory: () => Promise<BloomTarget>): void {
  void describe(`bloom contract: ${name}`, () => {
    const run = (title: string, body: (t: BloomTarget) => Promise<void>) =>
      void test(title, async () => {
        const target = await factory()
        try {
          await body(target)
        } finally {
          await target.cleanup()
        }
      })

    run('add / exists / addMany / existsMany: added items exist, add reports whether an item was new', async ({ filters }) => {
      const filter = await filters.create('basic', { capacity: 1000, errorRate: 0.01 })
      assert.equal(await filter.exists('a'), false)
      assert.equal(await filter.add('a'), true)
      assert.equal(await filter.add('a'), false, 'adding again reports not-new')
      assert.equal(await filter.exists('a'), true)
      assert.deepEqual(await filter.addMany(['b', 'c', 'b']), [true, true, false])
      assert.deepEqual(await filter.existsMany(['a', 'b', 'c', 'zz-not-added']), [true, true, true, false])
      assert.deepEqual(await filter.addMany([]), [])
      assert.deepEqual(await filter.existsMany([]), [])
      assert.equal(await filter.add(''), true, 'the empty string is an item like any other')
      assert.equal(await filter.exists(''), true)
      assert.equal(await filter.add('ünïcødé ✓'), true)
      assert.equal(await filter.exists('ünïcødé ✓'), true)
    })

    run('create on an existing name opens it (from another connection); other parameters are refused', async ({ filters, other }) => {
      const first = await filters.create('shared', { capacity: 500, errorRate: 0.02 })
      await first.addMany(['x', 'y'])
      const again = await other.create('shared', { capacity: 500, errorRate: 0.02 })
      assert.deepEqual(await again.existsMany(['x', 'y']), [true, true])
      await assert.rejects(other.create('shared', { capacity: 600, errorRate: 0.02 }), BloomConfigMismatchError)
    })

    run('a deleted filter is gone: its items no longer exist after re-creating, and using the old handle fails clearly', async ({ filters }) => {
      const filter = await filters.create('gone', { capacity: 100, errorRate: 0.01 })
      await filter.add('x')
      await filter.delete()
      await assert.rejects(filter.add('y'), BloomNotFoundError)
      const fresh = await filters.create('gone', { capacity: 100, errorRate: 0.01 })
      assert.equal(await fresh.exists('x'), false)
    })

    run('more than one batch (2500 items) round-trips in order', async ({ filters }) => {
      const filter = await filters.create('batches', { capacity: 5000, errorRate: 0.001 })
      const items = Array.from({ length: 2500 }, (_, i) => `item-${i}`)
      const added = await filter.addMany(items)
      assert.equal(added.length, 2500)
      assert.ok(added.filter(Boolean).length >= 2495, 'nearly every distinct item is new')
      assert.ok((await filter.existsMany(items)).every(Boolean))
    })

    run('the false-positive rate at capacity is within 1.5x the target (1% and 0.1%)', async ({ filters }) => {
      for (const [capacity, errorRate] of [
        [10_000, 0.01],
        [5_000, 0.001],
      ] as const) {
        const fpr = await measureFpr(filters, `fpr-${errorRate}`, capacity, errorRate, 20_000)
        assert.ok(fpr <= errorRate * 1.5, `measured FPR ${fpr} at capacity ${capacity} exceeds 1.5 × ${errorRate}`)
      }
    })

    run('bad input is rejected naming the field', async ({ filters }) => {
      const invalid = (pattern: RegExp) => (e: Error) => e instanceof InvalidArgumentError && pattern.test(e.message)
      await assert.rejects(filters.create('x', { capacity: 0, errorRate: 0.01 }), invalid(/capacity: must be a positive integer/))
      await assert.rejects(filters.create('x', { capacity: 1.5, errorRate: 0.01 }), invalid(/capacity/))
      await assert.rejects(filters.create('x', { capacity: 10, errorRate: 0 }), invalid(/errorRate: must be a number strictly between 0 and 1/))
      await assert.rejects(filters.create('x', { capacity: 10, errorRate: 1 }), invalid(/errorRate/))
      await assert.rejects(filters.create('x', { capacity: 10, errorRate: Number.NaN }), invalid(/errorRate/))
      await assert.rejects(filters.create('', { capacity: 10, errorRate: 0.01 }), invalid(/name: must be a non-empty string/))
      await assert.rejects(filters.create('x', { capacity: 2 ** 40, errorRate: 0.01 }), invalid(/more than the 4294967296 a Redis string holds/))
      const filter = await filters.create('typed', { capacity: 10, errorRate: 0.01 })
      await assert.rejects(async () => filter.add(42 as unknown as string), invalid(/item: must be a string/))
      await assert.rejects(async () => filter.addMany(['a', null as unknown as string]), invalid(/items\[1\]: must be a string/))
    })
  })
}
