// The CacheBackend contract: one suite every backend must pass (memory, Redis single / legacy / cluster, and
// wrappers over them). Register it with `backendContract(label, open)` from a *.test.ts file.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { CacheBackend } from '../../src/cache/backend.ts'
import { InvalidArgumentError, RedisCommandError } from '../../src/redis/errors.ts'
import { escapeGlob } from '../../src/redis/glob.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

export interface ContractTarget {
  backend: CacheBackend
  /** Unique to this run: every key the suite writes starts with it, and is deleted afterwards. */
  prefix: string
  /** Closes the backend and whatever the factory opened for it. */
  close(): Promise<void>
}

/** Keys that land in many different cluster slots (no hash tags). */
function spread(prefix: string, label: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${label}:${i}:${(i * 7919).toString(36)}`)
}

export function backendContract(label: string, open: () => Promise<ContractTarget>): void {
  void describe(`CacheBackend contract: ${label}`, () => {
    let target: ContractTarget
    let backend: CacheBackend
    const k = (name: string): string => target.prefix + name

    before(async () => {
      target = await open()
      backend = target.backend
    })

    after(async () => {
      if (!target) return
      await backend.deleteMatching(`${escapeGlob(target.prefix)}*`)
      await target.close()
    })

    void it('get returns undefined for a missing key and what was set otherwise, values verbatim', async () => {
      assert.equal(await backend.get(k('missing')), undefined)
      await backend.set(k('plain'), 'v1')
      assert.equal(await backend.get(k('plain')), 'v1')
      await backend.set(k('plain'), 'v2')
      assert.equal(await backend.get(k('plain')), 'v2')
      const odd = '{"ünï":"çødé 🚀","nl":"a\\r\\nb"}\u0000end'
      await backend.set(k('odd'), odd)
      assert.equal(await backend.get(k('odd')), odd)
      await backend.set(k('empty'), '')
      assert.equal(await backend.get(k('empty')), '')
      assert.equal(await backend.exists(k('empty')), true)
    })

    void it('set with a TTL: ttl() reports the remaining ms and the key expires', async () => {
      await backend.set(k('short'), 'x', 300)
      const ttl = await backend.ttl(k('short'))
      assert.ok(typeof ttl === 'number' && ttl > 0 && ttl <= 300, `ttl ${ttl}`)
      await waitFor(async () => (await backend.get(k('short'))) === undefined, 'the key set with a 300 ms TTL expires')
      assert.equal(await backend.exists(k('short')), false)
      assert.equal(await backend.ttl(k('short')), undefined)
    })

    void it('ttl(): null without expiry, undefined when missing', async () => {
      await backend.set(k('forever'), 'x')
      assert.equal(await backend.ttl(k('forever')), null)
      assert.equal(await backend.ttl(k('nothing-here')), undefined)
    })

    void it('expire(): false on a missing key, sets the TTL of an existing one', async () => {
      assert.equal(await backend.expire(k('nope'), 1000), false)
      assert.equal(await backend.exists(k('nope')), false)
      await backend.set(k('to-expire'), 'x')
      assert.equal(await backend.expire(k('to-expire'), 60_000), true)
      const ttl = await backend.ttl(k('to-expire'))
      assert.ok(typeof ttl === 'number' && ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`)
      assert.equal(await backend.expire(k('to-expire'), 200), true)
      await waitFor(async () => !(await backend.exists(k('to-expire'))), 'expire(200) makes the key expire')
    })

    void it('getMany: one result per key, in order, across many slots, misses as undefined', async () => {
      assert.deepEqual(await backend.getMany([]), [])
      const keys = spread(target.prefix, 'gm', 60)
      for (const [i, key] of keys.entries()) if (i % 3 !== 0) await backend.set(key, `value-${i}`)
      const values = await backend.getMany(keys)
      assert.equal(values.length, keys.length)
      values.forEach((value, i) => assert.equal(value, i % 3 === 0 ? undefined : `value-${i}`, `index ${i}`))
      // the same key twice gets its value twice
      assert.deepEqual(await backend.getMany([keys[1]!, keys[0]!, keys[1]!]), ['value-1', undefined, 'value-1'])
    })

    void it('setMany: writes every entry with its own TTL, across many slots', async () => {
      await backend.setMany([])
      const keys = spread(target.prefix, 'sm', 60)
      await backend.setMany(keys.map((key, i) => ({ key, value: `v${i}`, ttlMs: i % 2 === 0 ? 60_000 : undefined })))
      assert.deepEqual(
        await backend.getMany(keys),
        keys.map((_, i) => `v${i}`),
      )
      const withTtl = await backend.ttl(keys[0]!)
      assert.ok(typeof withTtl === 'number' && withTtl > 50_000, `ttl ${withTtl}`)
      assert.equal(await backend.ttl(keys[1]!), null)
    })

    void it('setIfAbsent: only the first caller wins, the value stays, and the key expires', async () => {
      assert.equal(await backend.setIfAbsent(k('lock'), 'owner-a', 300), true)
      assert.equal(await backend.setIfAbsent(k('lock'), 'owner-b', 300), false)
      assert.equal(await backend.get(k('lock')), 'owner-a')
      await waitFor(async () => !(await backend.exists(k('lock'))), 'the lock expires')
      assert.equal(await backend.setIfAbsent(k('lock'), 'owner-b', 60_000), true)
      assert.equal(await backend.get(k('lock')), 'owner-b')
    })

    void it('delete: counts only the keys that existed, across slots', async () => {
      assert.equal(await backend.delete([]), 0)
      const keys = spread(target.prefix, 'del', 20)
      for (const key of keys.slice(0, 15)) await backend.set(key, 'x')
      assert.equal(await backend.delete(keys), 15)
      assert.deepEqual(await backend.getMany(keys), keys.map(() => undefined))
      assert.equal(await backend.delete(keys), 0)
    })

    void it('deleteIfEquals: deletes only while the key holds the expected value', async () => {
      await backend.set(k('owned'), 'token-1')
      assert.equal(await backend.deleteIfEquals(k('owned'), 'token-2'), false)
      assert.equal(await backend.get(k('owned')), 'token-1')
      assert.equal(await backend.deleteIfEquals(k('owned'), 'token-1'), true)
      assert.equal(await backend.exists(k('owned')), false)
      assert.equal(await backend.deleteIfEquals(k('owned'), 'token-1'), false)
    })

    void it('increment: creates at `by`, adds, subtracts; rejects a non-integer value', async () => {
      assert.equal(await backend.increment(k('n'), 1), 1)
      assert.equal(await backend.increment(k('n'), 41), 42)
      assert.equal(await backend.increment(k('n'), -50), -8)
      assert.equal(await backend.get(k('n')), '-8')
      assert.equal(await backend.ttl(k('n')), null)
      await backend.set(k('text'), 'abc')
      await assert.rejects(backend.increment(k('text'), 1), RedisCommandError)
      assert.equal(await backend.get(k('text')), 'abc')
    })

    void it('increment: the TTL is set only when the call creates the counter', async () => {
      assert.equal(await backend.increment(k('window'), 1, 400), 1)
      const first = await backend.ttl(k('window'))
      assert.ok(typeof first === 'number' && first > 0 && first <= 400, `ttl ${first}`)
      assert.equal(await backend.increment(k('window'), 1, 60_000), 2)
      const second = await backend.ttl(k('window'))
      assert.ok(typeof second === 'number' && second <= 400, `an existing counter keeps its TTL, got ${second}`)
      await waitFor(async () => !(await backend.exists(k('window'))), 'the counter expires with its first TTL')
      assert.equal(await backend.increment(k('window'), 5), 5)
      assert.equal(await backend.ttl(k('window')), null, 'a counter created without ttl never expires')
    })

    void it('deleteMatching / countMatching: globs within the prefix; escaped user input matches itself only', async () => {
      const base = k('dm:')
      for (const name of ['user:1', 'user:2', 'user:*', 'user:[ab]', 'user:a', 'users:3', 'user?x', 'other']) {
        await backend.set(base + name, 'x')
      }
      assert.equal(await backend.countMatching(`${escapeGlob(base)}*`), 8)
      // user input "user:*" must match the literal key only, never user:1 etc.
      assert.equal(await backend.countMatching(escapeGlob(`${base}user:*`)), 1)
      assert.equal(await backend.deleteMatching(escapeGlob(`${base}user:*`)), 1)
      assert.equal(await backend.exists(`${base}user:1`), true)
      assert.equal(await backend.deleteMatching(escapeGlob(`${base}user:[ab]`)), 1)
      assert.equal(await backend.exists(`${base}user:a`), true, '[ab] escaped is not a character class')
      assert.equal(await backend.deleteMatching(escapeGlob(`${base}user?x`)), 1)
      // a real glob: user:* matches user:1, user:2, user:a — not users:3
      assert.equal(await backend.deleteMatching(`${escapeGlob(`${base}user:`)}*`), 3)
      assert.equal(await backend.exists(`${base}users:3`), true)
      assert.equal(await backend.countMatching(`${escapeGlob(base)}*`), 2)
      assert.equal(await backend.deleteMatching(`${escapeGlob(k('dm-none:'))}*`), 0)
    })

    void it('deleteMatching: many keys across every master', async () => {
      const keys = spread(target.prefix, 'bulk', 1200)
      await backend.setMany(keys.map((key) => ({ key, value: 'x', ttlMs: 60_000 })))
      const pattern = `${escapeGlob(k('bulk:'))}*`
      assert.equal(await backend.countMatching(pattern), 1200)
      assert.equal(await backend.deleteMatching(pattern), 1200)
      assert.equal(await backend.countMatching(pattern), 0)
    })

    void it('tags: invalidateTags deletes the keys of the tags (across slots) and the tag sets', async () => {
      const [a, b, c, d] = spread(target.prefix, 'tagged', 4) as [string, string, string, string]
      const tagX = k('tag:x')
      const tagY = k('tag:y')
      for (const key of [a, b, c, d]) await backend.set(key, 'v', 60_000)
      await backend.addToTags([tagX, tagY], a, 60_000)
      await backend.addToTags([tagX], b, 60_000)
      await backend.addToTags([tagY], c, 60_000)
      assert.equal(await backend.invalidateTags([tagX]), 2)
      assert.deepEqual(await backend.getMany([a, b, c, d]), [undefined, undefined, 'v', 'v'])
      assert.equal(await backend.invalidateTags([tagX]), 0, 'the tag set is gone')
      assert.equal(await backend.invalidateTags([tagY, k('tag:unknown')]), 1)
      assert.equal(await backend.get(d), 'v')
    })

    void it('tags: a key tagged while an invalidation of its tag runs is dropped by the next invalidation', async () => {
      // Another process fills a tagged entry while this one invalidates the tag: the walk may or may not see it,
      // but it must never lose the key's membership (the key would outlive every later invalidation).
      const tag = k('tag:racing')
      const old = spread(target.prefix, 'racing-old', 600)
      for (const key of old) await backend.set(key, 'v', 60_000)
      await Promise.all(old.map((key) => backend.addToTags([tag], key, 60_000)))
      const fresh = spread(target.prefix, 'racing-new', 40)
      const walking = backend.invalidateTags([tag])
      for (const key of fresh) {
        await backend.set(key, 'v', 60_000)
        await backend.addToTags([tag], key, 60_000)
      }
      await walking
      assert.deepEqual(await backend.getMany(old), old.map(() => undefined), 'the keys tagged before are gone')
      await backend.invalidateTags([tag])
      assert.deepEqual(await backend.getMany(fresh), fresh.map(() => undefined), 'the keys tagged during the walk are gone too')
    })

    void it('tags: a tag set lives as long as its longest-lived key (a short TTL never shortens it)', async () => {
      const tag = k('tag:long')
      await backend.set(k('long-lived'), 'v')
      await backend.addToTags([tag], k('long-lived'))
      await backend.set(k('short-lived'), 'v', 100)
      await backend.addToTags([tag], k('short-lived'), 100)
      await sleep(400)
      assert.equal(await backend.invalidateTags([tag]), 1)
      assert.equal(await backend.exists(k('long-lived')), false)
    })

    void it('tags: the tag set of short-lived keys expires with them', async () => {
      const tag = k('tag:short')
      await backend.set(k('t-short'), 'v', 200)
      await backend.addToTags([tag], k('t-short'), 200)
      await waitFor(async () => !(await backend.exists(k('t-short'))), 'the tagged key expires')
      // The tag set gets its TTL a moment after the key (on a cluster, on another node): wait for it too.
      await waitFor(async () => !(await backend.exists(tag)), 'the tag set expires')
      await backend.set(k('t-short'), 'v-again')
      assert.equal(await backend.invalidateTags([tag]), 0, 'an expired tag set must not delete a newer key')
      assert.equal(await backend.get(k('t-short')), 'v-again')
    })

    void it('publish / subscribe: every listener of the channel gets each message; unsubscribe stops delivery', async () => {
      const channel = k('chan')
      const other = k('chan-other')
      const gotA: string[] = []
      const gotB: string[] = []
      const gotOther: string[] = []
      const offA = await backend.subscribe(channel, (m) => gotA.push(m))
      const offB = await backend.subscribe(channel, (m) => gotB.push(m))
      const offOther = await backend.subscribe(other, (m) => gotOther.push(m))
      await backend.publish(channel, 'm1')
      await waitFor(() => gotA.includes('m1') && gotB.includes('m1'), 'both listeners get m1')
      await offA()
      await offA() // idempotent
      await backend.publish(channel, 'm2')
      await backend.publish(other, 'o1')
      await waitFor(() => gotB.includes('m2') && gotOther.includes('o1'), 'B gets m2 and the other channel gets o1')
      assert.deepEqual(gotA, ['m1'])
      assert.deepEqual(gotOther, ['o1'])
      await offB()
      await offOther()
      // subscribe again after every listener left
      const gotC: string[] = []
      const offC = await backend.subscribe(channel, (m) => gotC.push(m))
      await backend.publish(channel, 'm3')
      await waitFor(() => gotC.includes('m3'), 'a new subscriber gets m3')
      await offC()
      assert.deepEqual(gotB, ['m1', 'm2'])
    })

    void it('publish / subscribe: a throwing listener does not stop the others', async () => {
      const channel = k('chan-throw')
      const got: string[] = []
      const offBad = await backend.subscribe(channel, () => {
        throw new Error('listener bug')
      })
      const offGood = await backend.subscribe(channel, (m) => got.push(m))
      await backend.publish(channel, 'still-delivered')
      await waitFor(() => got.includes('still-delivered'), 'the good listener gets the message')
      await offBad()
      await offGood()
    })

    void it('ping and info', async () => {
      const latency = await backend.ping()
      assert.ok(typeof latency === 'number' && latency >= 0, `latency ${latency}`)
      await backend.set(k('info'), 'x')
      const info = await backend.info()
      assert.ok(info.keys === undefined || info.keys >= 1, `keys ${info.keys}`)
      assert.ok(info.usedMemoryBytes === undefined || info.usedMemoryBytes > 0, `used ${info.usedMemoryBytes}`)
    })

    void it('bad input: non-positive or non-finite TTLs and non-integer increments fail naming the field, writing nothing', async () => {
      for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(backend.set(k('bad'), 'x', bad), (e: unknown) => e instanceof InvalidArgumentError && /ttlMs/.test(e.message))
        await assert.rejects(backend.setIfAbsent(k('bad'), 'x', bad), InvalidArgumentError)
        await assert.rejects(backend.increment(k('bad'), 1, bad), InvalidArgumentError)
        await assert.rejects(backend.addToTags([k('bad-tag')], k('bad'), bad), InvalidArgumentError)
      }
      await backend.set(k('bad-expire'), 'x')
      await assert.rejects(backend.expire(k('bad-expire'), 0), InvalidArgumentError)
      assert.equal(await backend.ttl(k('bad-expire')), null, 'expire(0) must not delete the key')
      await assert.rejects(backend.increment(k('bad'), 1.5), (e: unknown) => e instanceof InvalidArgumentError && /\bby\b/.test(e.message))
      await assert.rejects(
        backend.setMany([
          { key: k('batch-ok'), value: 'x' },
          { key: k('batch-bad'), value: 'x', ttlMs: -1 },
        ]),
        (e: unknown) => e instanceof InvalidArgumentError && /batch-bad/.test(e.message),
      )
      assert.equal(await backend.exists(k('batch-ok')), false, 'a rejected batch writes nothing')
      assert.equal(await backend.exists(k('bad')), false)
    })
  })
}
