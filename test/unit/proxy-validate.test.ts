// Argument checks and TTL-index naming of the RedisProxy: pure functions, no server.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { ValueTooLargeError } from '../../src/cache/errors.ts'
import { escapeGlob, globToRegExp } from '../../src/redis/glob.ts'
import { EmulatedHashTtl } from '../../src/cache/proxy/hash-ttl.ts'
import { requireKey, requirePattern, requireValue, ttlMs } from '../../src/cache/proxy/validate.ts'
import { slotOf } from '../../src/redis/slot.ts'

void describe('proxy validation', () => {
  void test('requirePattern accepts globs and refuses raw input that would mis-match', () => {
    for (const ok of ['*', 'a?c', 'skalds:*:heartbeat', 'user[12]:*', 'x\\[SP\\]*', '[^a]*', 'a\\\\']) assert.equal(requirePattern(ok), ok)
    assert.throws(() => requirePattern('node[SP'), (e: unknown) => e instanceof InvalidArgumentError && /unclosed "\[" at position 4/.test(e.message))
    assert.throws(() => requirePattern('abc\\'), /unpaired/)
    assert.throws(() => requirePattern(''), InvalidArgumentError)
  })

  void test('an escaped literal is always a valid pattern that matches only itself', () => {
    fc.assert(
      fc.property(fc.string(), (literal) => {
        const pattern = escapeGlob(literal)
        if (pattern !== '') requirePattern(pattern)
        assert.ok(globToRegExp(pattern).test(literal))
      }),
    )
  })

  void test('requireValue counts UTF-8 bytes against the limit', () => {
    assert.equal(requireValue('é'.repeat(5), 'v', 10), 'é'.repeat(5))
    assert.throws(() => requireValue('é'.repeat(6), 'v', 10), (e: unknown) => e instanceof ValueTooLargeError && /12 bytes is over the limit of 10/.test(e.message))
    assert.throws(() => requireValue(1, 'v', 10), InvalidArgumentError)
  })

  void test('ttlMs: durations to whole ms, 0/undefined = none', () => {
    assert.equal(ttlMs(undefined), 0)
    assert.equal(ttlMs(0), 0)
    assert.equal(ttlMs('3600s'), 3_600_000)
    assert.equal(ttlMs(0.2), 1)
    assert.throws(() => ttlMs(-5), /ttl/)
  })

  void test('requireKey refuses empty and non-string keys', () => {
    assert.throws(() => requireKey(''), /key: must not be empty/)
    assert.throws(() => requireKey(undefined), /must be a string/)
  })
})

void describe('TTL index keys', () => {
  void test('same slot as the hash, and mapped back to it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 1 }), fc.stringMatching(/^[{}a ]{1,8}$/)), (key) => {
        let index: string
        try {
          index = EmulatedHashTtl.indexKey(key)
        } catch (error) {
          assert.ok(error instanceof InvalidArgumentError)
          return
        }
        assert.equal(slotOf(index), slotOf(key))
        assert.equal(EmulatedHashTtl.hashOfIndex(index), key)
      }),
      { numRuns: 2000 },
    )
  })

  void test('a key and its {tag}-only twin get distinct indexes: `{x}:__hfttl` and `{x}|__hfttl`', () => {
    assert.equal(EmulatedHashTtl.indexKey('skalds:hash'), '{skalds:hash}:__hfttl')
    assert.equal(EmulatedHashTtl.indexKey('{node1}:h'), '{node1}:h|__hfttl')
    assert.equal(EmulatedHashTtl.indexKey('{skalds:hash}'), '{skalds:hash}|__hfttl')
    assert.notEqual(EmulatedHashTtl.indexKey('{{ }'), EmulatedHashTtl.indexKey('{ '))
    assert.equal(EmulatedHashTtl.hashOfIndex(EmulatedHashTtl.indexKey('{skalds:hash}')), '{skalds:hash}')
    assert.equal(EmulatedHashTtl.hashOfIndex(EmulatedHashTtl.indexKey('{ ')), '{ ')
    assert.equal(EmulatedHashTtl.hashOfIndex('plain-key'), undefined)
  })

  void test('no two keys share an index', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[{}a:|]{1,7}$/), fc.stringMatching(/^[{}a:|]{1,7}$/), (a, b) => {
        fc.pre(a !== b)
        let ia: string
        let ib: string
        try {
          ia = EmulatedHashTtl.indexKey(a)
          ib = EmulatedHashTtl.indexKey(b)
        } catch {
          return
        }
        assert.notEqual(ia, ib)
      }),
      { numRuns: 5000 },
    )
  })
})
