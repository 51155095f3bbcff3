// The RedisProxy contract: the same observable behaviour on every Redis flavour (native hash-field TTL on Redis 8,
// the Lua emulation on Redis 7.0, a 3-master cluster). `proxyContract(target)` registers the describe blocks.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { RedisConnection } from '../../src/redis/connection.ts'
import type { RedisConnectionOptions } from '../../src/redis/connection-options.ts'
import { CrossSlotError, InvalidArgumentError } from '../../src/redis/errors.ts'
import { ValueTooLargeError } from '../../src/cache/errors.ts'
import { escapeGlob } from '../../src/redis/glob.ts'
import { RedisProxy, type HashTtlMode, type RedisProxyOptions } from '../../src/cache/proxy/index.ts'
import { HashTtlSweeper } from '../../src/cache/proxy/hash-ttl-sweeper.ts'
import { EmulatedHashTtl } from '../../src/cache/proxy/hash-ttl.ts'
import { slotOf } from '../../src/redis/slot.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { type RedisTarget, uniquePrefix } from '../helpers/servers.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

export interface ProxyContractOptions {
  /** The per-field TTL path the proxy must take on this target. */
  expectedMode: HashTtlMode
  /** Passed to the proxy (e.g. force the emulation on a native cluster). */
  proxy?: RedisProxyOptions
}

/** Connection options for a target, with a key prefix. */
export function connectionOptions(target: RedisTarget, keyPrefix: string): RedisConnectionOptions {
  const base = target.clusterNodes ? { cluster: { nodes: target.clusterNodes } } : { url: target.url! }
  return { ...base, keyPrefix, logger: silentLogger }
}

const INTEGER = /^\d+$/

export function proxyContract(target: RedisTarget, options: ProxyContractOptions): void {
  const { expectedMode } = options
  const emulated = expectedMode === 'emulated'

  void describe(`RedisProxy on ${target.name} (${expectedMode} hash-field TTL)`, () => {
    let connection: RedisConnection
    let proxy: RedisProxy
    let prefix: string
    /** A raw command on the full (prefixed) key. */
    const raw = <T>(args: string[], key: string): Promise<T> => connection.send<T>(args, { key })

    before(async () => {
      prefix = uniquePrefix(`proxy-${target.name}`)
      connection = await RedisConnection.connect(connectionOptions(target, prefix))
      proxy = new RedisProxy(connection, { sweeper: false, ...options.proxy })
    })

    after(async () => {
      if (!connection) return
      await proxy.close()
      // Tests clean up their own keys; sweep what is left under this run's prefix.
      const keys: string[] = []
      for await (const batch of connection.scan(`${escapeGlob(prefix)}*`)) keys.push(...batch)
      for await (const batch of connection.scan(`{${escapeGlob(prefix)}*`)) keys.push(...batch)
      await Promise.all(keys.map((key) => connection.send(['DEL', key], { key })))
      await connection.close()
    })

    void test(`uses the ${expectedMode} path`, async () => {
      assert.equal(await proxy.hashTtlMode(), expectedMode)
      await proxy.setHashField('mode', 'f', 'v', { ttl: '60s' })
      const full = connection.key('mode')
      const index = EmulatedHashTtl.indexKey(full)
      if (emulated) {
        assert.equal(await raw<number>(['EXISTS', index], index), 1, 'the TTL index exists beside the hash')
        const score = await raw<string | null>(['ZSCORE', index, 'f'], index)
        assert.ok(score !== null && Number(score) > Date.now(), 'the index holds the field expiry in epoch ms')
      } else {
        const ttl = await raw<number[]>(['HTTL', full, 'FIELDS', '1', 'f'], full)
        assert.ok(ttl[0]! > 0 && ttl[0]! <= 60, `HTTL gives the field's native TTL, got ${ttl[0]}`)
        assert.equal(await raw<number>(['EXISTS', index], index), 0, 'no TTL index on the native path')
      }
      await proxy.deleteKey('mode')
      assert.equal(await raw<number>(['EXISTS', index], index), 0, 'deleting the hash deletes its TTL index')
    })

    void describe('hashes', () => {
      void test('set, get, getAll, delete fields', async () => {
        assert.equal(await proxy.setHashField('h1', 'a', '1'), true)
        assert.equal(await proxy.setHashField('h1', 'a', '2'), false, 'an existing field is not new')
        assert.equal(await proxy.setHashFields('h1', { b: 'β', c: '' }), 2)
        assert.equal(await proxy.getHashField('h1', 'a'), '2')
        assert.equal(await proxy.getHashField('h1', 'b'), 'β')
        assert.equal(await proxy.getHashField('h1', 'missing'), undefined)
        assert.deepEqual(await proxy.getAllHash('h1'), { a: '2', b: 'β', c: '' })
        assert.equal(await proxy.deleteHashField('h1', 'a', 'missing'), 1)
        assert.deepEqual(await proxy.getAllHash('h1'), { b: 'β', c: '' })
        assert.deepEqual(await proxy.getAllHash('absent'), {})
        assert.equal(await proxy.getHashField('absent', 'x'), undefined)
        await proxy.deleteKey('h1')
      })

      void test('a field with a TTL expires and is invisible to get and getAll; others stay', async () => {
        await proxy.setHashField('h2', 'keep', 'k')
        await proxy.setHashField('h2', 'short', 's', { ttl: 300 })
        await proxy.setHashField('h2', 'long', 'l', { ttl: '60s' })
        assert.equal(await proxy.getHashField('h2', 'short'), 's')
        await waitFor(async () => !('short' in (await proxy.getAllHash('h2'))), 'the 300 ms field is gone for getAll', 15_000)
        assert.equal(await proxy.getHashField('h2', 'short'), undefined)
        assert.equal(await proxy.hashFieldTtl('h2', 'short'), undefined)
        assert.deepEqual(await proxy.getAllHash('h2'), { keep: 'k', long: 'l' })
        await proxy.deleteKey('h2')
      })

      void test('hashFieldTtl: ms left, null without TTL, undefined when absent', async () => {
        await proxy.setHashFields('h3', { t: '1' }, { ttl: '30s' })
        await proxy.setHashField('h3', 'p', '2')
        const left = await proxy.hashFieldTtl('h3', 't')
        assert.ok(typeof left === 'number' && left > 20_000 && left <= 30_000, `got ${left}`)
        assert.equal(await proxy.hashFieldTtl('h3', 'p'), null)
        assert.equal(await proxy.hashFieldTtl('h3', 'nope'), undefined)
        assert.equal(await proxy.hashFieldTtl('absent', 'nope'), undefined)
        await proxy.deleteKey('h3')
      })

      void test('HSET without TTL clears the field TTL (as Redis >= 7.4 does natively)', async () => {
        await proxy.setHashField('h4', 'f', 'old', { ttl: 400 })
        await proxy.setHashField('h4', 'f', 'new')
        assert.equal(await proxy.hashFieldTtl('h4', 'f'), null)
        await sleep(700)
        assert.equal(await proxy.getHashField('h4', 'f'), 'new', 'the field outlives its former TTL')
        // And a TTL set again replaces none with one.
        await proxy.setHashField('h4', 'f', 'again', { ttl: '20s' })
        const left = await proxy.hashFieldTtl('h4', 'f')
        assert.ok(typeof left === 'number' && left > 10_000, `got ${left}`)
        await proxy.deleteKey('h4')
      })

      void test('setHashFields gives every field the TTL in one atomic call', async () => {
        const fields = Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`f${i}`, String(i)]))
        assert.equal(await proxy.setHashFields('h5', fields, { ttl: '60s' }), 2500)
        const all = await proxy.getAllHash('h5')
        assert.equal(Object.keys(all).length, 2500)
        for (const field of ['f0', 'f1234', 'f2499']) {
          const left = await proxy.hashFieldTtl('h5', field)
          assert.ok(typeof left === 'number' && left > 0, `${field}: got ${left}`)
        }
        await proxy.deleteKey('h5')
      })

      void test('a hash whose fields all expired is gone as a key too', async () => {
        await proxy.setHashFields('h6', { a: '1', b: '2' }, { ttl: 300 })
        const full = connection.key('h6')
        await waitFor(async () => (await raw<number>(['EXISTS', full], full)) === 0, 'the hash key disappears', 15_000)
        const index = EmulatedHashTtl.indexKey(full)
        await waitFor(async () => (await raw<number>(['EXISTS', index], index)) === 0, 'no TTL index is left', 15_000)
      })

      void test('a field named __proto__ stays a field', async () => {
        await proxy.setHashField('h7', '__proto__', 'x')
        const all = await proxy.getAllHash('h7')
        assert.equal(Object.keys(all).length, 1)
        assert.equal(Object.getOwnPropertyDescriptor(all, '__proto__')?.value, 'x')
        await proxy.deleteKey('h7')
      })

      if (emulated) {
        void test('emulated: an expired field is purged lazily by a read', async () => {
          await proxy.setHashField('lazy', 'keep', 'k')
          await proxy.setHashField('lazy', 'gone', 'g', { ttl: 200 })
          const full = connection.key('lazy')
          const index = EmulatedHashTtl.indexKey(full)
          await sleep(500)
          assert.equal(await raw<number>(['HEXISTS', full, 'gone'], full), 1, 'still stored before any read')
          assert.equal(await proxy.getHashField('lazy', 'gone'), undefined)
          assert.equal(await raw<number>(['HEXISTS', full, 'gone'], full), 0, 'purged by the read')
          assert.equal(await raw<string | null>(['ZSCORE', index, 'gone'], index), null, 'its index entry too')
          await proxy.deleteKey('lazy')
        })

        void test('emulated: the sweeper purges expired fields nobody reads', async () => {
          await proxy.setHashField('swept', 'keep', 'k')
          await proxy.setHashField('swept', 'gone', 'g', { ttl: 200 })
          const full = connection.key('swept')
          const index = EmulatedHashTtl.indexKey(full)
          await sleep(500)
          const sweeper = new HashTtlSweeper(connection, { interval: 100 })
          sweeper.start()
          try {
            await waitFor(async () =>
              (await raw<number>(['HEXISTS', full, 'gone'], full)) === 0 && (await raw<string | null>(['ZSCORE', index, 'gone'], index)) === null, 'the sweeper removes the expired field and its index entry', 15_000)
          } finally {
            await sweeper.stop()
          }
          assert.equal(await raw<string>(['HGET', full, 'keep'], full), 'k', 'a live field is untouched')
          assert.equal(await raw<number>(['EXISTS', index], index), 0, 'an empty index is gone')
          await proxy.deleteKey('swept')
        })

        void test('emulated: a proxy starts its sweeper on the first hash write', async () => {
          const own = new RedisProxy(connection, { ...options.proxy, sweeper: { interval: 100 } })
          try {
            assert.equal(own.sweeper, undefined)
            await own.setHashField('auto', 'gone', 'g', { ttl: 200 })
            await own.setHashField('auto', 'keep', 'k')
            assert.ok((own.sweeper as HashTtlSweeper | undefined)?.running)
            const full = connection.key('auto')
            await waitFor(async () => (await raw<number>(['HEXISTS', full, 'gone'], full)) === 0, 'the running sweeper purges the field', 15_000)
          } finally {
            await own.close()
          }
          await proxy.deleteKey('auto')
        })

        void test('emulated: a key that is only a {hash tag} and its untagged twin keep separate TTLs', async () => {
          const bare = new RedisProxy(await RedisConnection.connect(connectionOptions(target, '')), { ...options.proxy, sweeper: false })
          const untagged = `${prefix}twin`
          const tagged = `{${untagged}}`
          try {
            await bare.setHashField(untagged, 'f', 'short', { ttl: 300 })
            await bare.setHashField(tagged, 'f', 'long', { ttl: '60s' })
            await waitFor(async () => (await bare.getHashField(untagged, 'f')) === undefined, 'the untagged twin expires', 15_000)
            assert.equal(await bare.getHashField(tagged, 'f'), 'long', 'the {tag}-only key keeps its own expiry')
          } finally {
            await bare.deleteKey(untagged, tagged)
            await bare.connection.close()
          }
        })
      }
    })

    void describe('lists', () => {
      void test('push to head and tail, read ranges', async () => {
        assert.equal(await proxy.pushList('l1', 'b'), 1)
        assert.equal(await proxy.pushList('l1', 'a'), 2, 'head is the default')
        assert.equal(await proxy.pushList('l1', ['c', 'd'], { head: false }), 4)
        assert.deepEqual(await proxy.getList('l1'), ['a', 'b', 'c', 'd'])
        assert.deepEqual(await proxy.getList('l1', 1, 2), ['b', 'c'])
        assert.deepEqual(await proxy.getList('l1', -2), ['c', 'd'])
        await proxy.pushList('l1', ['y', 'z'])
        assert.deepEqual(await proxy.getList('l1', 0, 1), ['z', 'y'], 'several head values are pushed one after another')
        assert.deepEqual(await proxy.getList('absent'), [])
        await proxy.deleteKey('l1')
      })

      void test('a list with a TTL expires', async () => {
        await proxy.pushList('l2', ['x'], { ttl: 300 })
        const full = connection.key('l2')
        const pttl = await raw<number>(['PTTL', full], full)
        assert.ok(pttl > 0 && pttl <= 300, `got ${pttl}`)
        await waitFor(async () => (await proxy.getList('l2')).length === 0, 'the list expires', 15_000)
      })

      void test('overwriteList replaces the content and sets the TTL; [] deletes the key', async () => {
        await proxy.pushList('l3', ['old1', 'old2'])
        assert.equal(await proxy.overwriteList('l3', ['n1', 'n2', 'n3'], { ttl: '60s' }), 3)
        assert.deepEqual(await proxy.getList('l3'), ['n1', 'n2', 'n3'])
        const full = connection.key('l3')
        assert.ok((await raw<number>(['PTTL', full], full)) > 50_000)
        assert.equal(await proxy.overwriteList('l3', ['only']), 1)
        assert.equal(await raw<number>(['PTTL', full], full), -1, 'no ttl = no TTL, as Python')
        assert.equal(await proxy.overwriteList('l3', []), 0)
        assert.equal(await raw<number>(['EXISTS', full], full), 0)
      })

      void test('overwriteList is atomic: concurrent readers never see an empty or mixed list', async () => {
        const size = 50
        const generation = (g: number): string[] => Array.from({ length: size }, (_, i) => `g${g}:${i}`)
        await proxy.overwriteList('l4', generation(0))
        const readerConnection = await connection.duplicate()
        const reader = new RedisProxy(readerConnection, { sweeper: false })
        let writing = true
        let reads = 0
        const bad: string[] = []
        const readLoop = async (): Promise<void> => {
          while (writing) {
            const list = await reader.getList('l4')
            reads++
            const g = list[0]?.split(':')[0]
            if (list.length !== size || list.some((v) => v.split(':')[0] !== g)) bad.push(`${list.length} items, first ${list[0]}`)
          }
        }
        try {
          const readers = [readLoop(), readLoop(), readLoop()]
          for (let g = 1; g <= 150; g++) await proxy.overwriteList('l4', generation(g), { ttl: '60s' })
          writing = false
          await Promise.all(readers)
        } finally {
          writing = false
          await readerConnection.close()
        }
        assert.ok(reads > 0)
        assert.deepEqual(bad, [], `readers saw partial lists (${reads} reads)`)
        assert.deepEqual(await proxy.getList('l4', 0, 0), ['g150:0'])
        await proxy.deleteKey('l4')
      })
    })

    void describe('strings', () => {
      void test('set and get; without ttl no TTL', async () => {
        await proxy.setString('s1', 'héllo')
        assert.equal(await proxy.getString('s1'), 'héllo')
        const full = connection.key('s1')
        assert.equal(await raw<number>(['PTTL', full], full), -1)
        assert.equal(await proxy.getString('absent'), undefined)
        await proxy.deleteKey('s1')
      })

      void test('a string with a TTL expires; a later set without TTL clears it', async () => {
        await proxy.setString('s2', 'v', { ttl: 300 })
        await waitFor(async () => (await proxy.getString('s2')) === undefined, 'the string expires', 15_000)
        await proxy.setString('s3', 'v', { ttl: '60s' })
        await proxy.setString('s3', 'w')
        const full = connection.key('s3')
        assert.equal(await raw<number>(['PTTL', full], full), -1)
        await proxy.deleteKey('s3')
      })
    })

    void describe('keys', () => {
      void test('deleteKey deletes keys of every type and counts the ones that existed', async () => {
        await proxy.setString('d:s', 'v')
        await proxy.pushList('d:l', 'v')
        await proxy.setHashField('d:h', 'f', 'v', { ttl: '60s' })
        assert.equal(await proxy.deleteKey('d:s', 'd:l', 'd:h', 'd:absent'), 3)
        assert.equal(await proxy.getString('d:s'), undefined)
        assert.deepEqual(await proxy.getAllHash('d:h'), {})
        assert.equal(await proxy.deleteKey(), 0)
      })

      void test('deleteKey across cluster slots deletes them all', async () => {
        const keys: string[] = []
        for (let i = 0; keys.length < 6; i++) {
          const key = `x:${i}`
          if (!keys.some((k) => slotOf(connection.key(k)) === slotOf(connection.key(key)))) keys.push(key)
        }
        await Promise.all(keys.map((key, i) => (i % 2 ? proxy.setString(key, 'v') : proxy.setHashField(key, 'f', 'v', { ttl: '60s' }))))
        assert.equal(await proxy.deleteKey(...keys), keys.length)
        for (const key of keys) assert.equal(await connection.send<number>(['EXISTS', connection.key(key)], { key: connection.key(key) }), 0)
      })

      void test('scanKeys: a glob; literal input escaped; TTL indexes hidden', async () => {
        const keys = ['scan:user[1]:a', 'scan:user[1]:b', 'scan:user1:c', 'scan:other', 'scan:user[1]:h']
        await Promise.all([...keys.slice(0, 4).map((key) => proxy.setString(key, '1')), proxy.setHashField(keys[4]!, 'f', 'v', { ttl: '60s' })])
        const sorted = async (found: Promise<string[]>): Promise<string[]> => (await found).sort()
        const bracketed = ['scan:user[1]:a', 'scan:user[1]:b', 'scan:user[1]:h']
        assert.deepEqual(await sorted(collect(proxy.scanKeysByPrefix('scan:user[1]'))), bracketed)
        assert.deepEqual(await sorted(proxy.findKeys(`${escapeGlob('scan:user[1]:')}*`)), bracketed)
        assert.deepEqual(await sorted(proxy.findKeys('scan:user[1]:*')), ['scan:user1:c'], 'unescaped, [1] is a character class')
        assert.deepEqual(await sorted(proxy.findKeys('scan:*')), [...keys].sort(), 'each key once, no TTL index')
        assert.deepEqual(await sorted(proxy.findKeys('*hfttl*')), [], 'the TTL index never shows')
        await assert.rejects(proxy.findKeys('scan:user[1'), (error: unknown) => error instanceof InvalidArgumentError && /unclosed "\["/.test(error.message))
        await assert.rejects(proxy.findKeys('scan:user\\'), InvalidArgumentError)
        await assert.rejects(proxy.findKeys(''), InvalidArgumentError)
        await assert.rejects(collect(proxy.scanKeysByPrefix('')), InvalidArgumentError)
        assert.equal(await proxy.deleteKey(...keys), keys.length)
      })
    })

    void describe('batches', () => {
      void test('a batch sends every operation in one call and returns results in order', async () => {
        const results = await proxy
          .batch()
          .setString('b:s', 'v', { ttl: '60s' })
          .setHashField('b:h', 'f', 'v', { ttl: '60s' })
          .setHashFields('b:h', { g: 'w' })
          .pushList('b:l', ['1', '2'], { head: false })
          .overwriteList('b:o', ['x'])
          .getAllHash('b:h')
          .getString('b:s')
          .getList('b:l')
          .exec()
        assert.deepEqual(results, [undefined, 1, 1, 2, 1, { f: 'v', g: 'w' }, 'v', ['1', '2']])
        const left = await proxy.hashFieldTtl('b:h', 'f')
        assert.ok(typeof left === 'number' && left > 0, 'the batch kept the field TTL')
        assert.deepEqual(await proxy.batch().deleteKey('b:s', 'b:h', 'b:l', 'b:o', 'b:none').exec(), [1, 1, 1, 1, 0])
        assert.deepEqual(await proxy.batch().exec(), [])
      })

      void test('bad input is refused when added; nothing is sent', async () => {
        const batch = proxy.batch().setString('bad:s', 'v')
        assert.throws(() => batch.setString('', 'v'), InvalidArgumentError)
        assert.equal(batch.length, 1)
        assert.equal(await proxy.getString('bad:s'), undefined)
        const sent = proxy.batch()
        await sent.exec()
        await assert.rejects(sent.exec(), /already sent/)
      })

      void test('singleSlot: keys sharing a {hash tag} run as one transaction; spread keys get CrossSlotError on a cluster', async () => {
        const tagged = await proxy.batch({ singleSlot: true }).setString('{node1}:a', '1').setHashField('{node1}:h', 'f', 'v', { ttl: '60s' }).exec()
        assert.deepEqual(tagged, [undefined, 1])
        const spread = proxy.batch({ singleSlot: true }).setString('spread:a', '1').setString('spread:b', '2').setString('spread:c', '3')
        if (connection.isCluster) {
          await assert.rejects(spread.exec(), (error: unknown) => error instanceof CrossSlotError && /singleSlot/.test(error.message))
          assert.equal(await proxy.getString('spread:a'), undefined, 'nothing was written')
        } else {
          assert.deepEqual(await spread.exec(), [undefined, undefined, undefined], 'one server: one transaction')
        }
        await proxy.deleteKey('{node1}:a', '{node1}:h', 'spread:a', 'spread:b', 'spread:c')
      })
    })

    void describe('bad input', () => {
      void test('an oversized value is refused and nothing is written', async () => {
        const small = new RedisProxy(connection, { ...options.proxy, maxValueBytes: 1024, sweeper: false })
        const big = 'é'.repeat(600) // 1200 bytes in UTF-8, 600 UTF-16 units
        await assert.rejects(small.setString('big:s', big), ValueTooLargeError)
        await assert.rejects(small.setHashFields('big:h', { ok: 'x', huge: big }), ValueTooLargeError)
        await assert.rejects(small.pushList('big:l', ['ok', big]), ValueTooLargeError)
        await assert.rejects(small.overwriteList('big:l', ['ok', big]), ValueTooLargeError)
        assert.throws(() => small.batch().setString('big:b', big), ValueTooLargeError)
        assert.equal(await proxy.getString('big:s'), undefined)
        assert.deepEqual(await proxy.getAllHash('big:h'), {}, 'not even the small field of the same call')
        assert.deepEqual(await proxy.getList('big:l'), [])
        assert.equal(await small.setString('big:s', 'é'.repeat(512)), undefined, 'exactly the limit is accepted')
        await proxy.deleteKey('big:s')
      })

      void test('empty keys, non-string values and bad TTLs are refused with the field named', async () => {
        await assert.rejects(proxy.setString('', 'v'), (e: unknown) => e instanceof InvalidArgumentError && /key: must not be empty/.test(e.message))
        await assert.rejects(proxy.setHashField('k', 'f', 42 as unknown as string), (e: unknown) => e instanceof InvalidArgumentError && /must be a string/.test(e.message))
        await assert.rejects(proxy.setString('k', 'v', { ttl: -1 }), /ttl/)
        await assert.rejects(proxy.setString('k', 'v', { ttl: '10 parsecs' as never }), /ttl/)
        await assert.rejects(proxy.deleteHashField('k'), InvalidArgumentError)
        await assert.rejects(proxy.getList('k', 0.5), InvalidArgumentError)
        await assert.rejects(proxy.deleteKey('ok', ''), (e: unknown) => e instanceof InvalidArgumentError && /keys\[1\]/.test(e.message))
      })
    })
  })
}

/** A Redis target only this run uses, started for the test and stopped after it. */
export interface ThrowawayTarget {
  target: RedisTarget
  stop(): Promise<void>
}

/**
 * What Python Skalds sees: with keyPrefix '' the proxy writes the real `skalds:hash` key. Only ever on a throwaway
 * server (`start`): on a shared one it would write the wire key a running Skalds reads.
 */
export function proxyWireShape(name: string, start: () => Promise<ThrowawayTarget>, options: ProxyContractOptions): void {
  const { expectedMode } = options
  const emulated = expectedMode === 'emulated'

  void describe(`RedisProxy wire shape on a throwaway ${name} (${expectedMode} hash-field TTL)`, () => {
    let server: ThrowawayTarget
    before(async () => {
      server = await start()
    })
    after(async () => {
      await server?.stop()
    })

    void test('Python shape: keyPrefix "" writes skalds:hash exactly as Skalds does (int ms string, field TTL 3600 s)', async () => {
      const bare = await RedisConnection.connect(connectionOptions(server.target, ''))
      const python = new RedisProxy(bare, { ...options.proxy, sweeper: false })
      assert.equal(await python.hashTtlMode(), expectedMode)
      const skaldId = uniquePrefix('skald')
      try {
        const now = Date.now()
        await python.setHashField('skalds:hash', skaldId, String(now), { ttl: '3600s' })
        const stored = await bare.send<string>(['HGET', 'skalds:hash', skaldId], { key: 'skalds:hash' })
        assert.match(stored, INTEGER)
        assert.equal(stored, String(now))
        if (emulated) {
          const index = EmulatedHashTtl.indexKey('skalds:hash')
          const [[seconds]] = [await bare.send<[string, string]>(['TIME'], { key: 'skalds:hash' })]
          const score = Number(await bare.send<string>(['ZSCORE', index, skaldId], { key: index }))
          const left = score - Number(seconds) * 1000
          assert.ok(left > 3_590_000 && left <= 3_601_000, `index expiry ${left} ms ahead`)
        } else {
          const [ttl] = await bare.send<number[]>(['HTTL', 'skalds:hash', 'FIELDS', '1', skaldId], { key: 'skalds:hash' })
          assert.ok(ttl! >= 3590 && ttl! <= 3600, `HTTL ${ttl}`)
        }
        assert.equal(await python.getHashField('skalds:hash', skaldId), String(now))
      } finally {
        await python.deleteHashField('skalds:hash', skaldId)
        await bare.close()
      }
    })
  })
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const item of iterable) out.push(item)
  return out
}
