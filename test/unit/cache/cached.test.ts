// cached(): default keys, explicit keys, invalidation, bad input; and the envelope as a property.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { cached, createCache } from '../../../src/cache/index.ts'
import { InvalidArgumentError } from '../../../src/redis/errors.ts'
import { hasHeader, openEnvelope, sealEnvelope } from '../../../src/cache/service/envelope.ts'
import { silentLogger } from '../../../src/config/logger.ts'

void test('cached(): the default key is <fn.name>:<JSON args>; invalidate and keyOf use the same key', async () => {
  const cache = await createCache({ logger: silentLogger })
  let calls = 0
  async function findUser(id: number, withPosts: boolean): Promise<{ id: number; withPosts: boolean }> {
    calls++
    return Promise.resolve({ id, withPosts })
  }
  const getUser = cached(findUser, { cache, ttl: '1m' })
  assert.equal(getUser.keyOf(1, true), 'findUser:[1,true]')
  assert.deepEqual(await getUser(1, true), { id: 1, withPosts: true })
  await getUser(1, true)
  await getUser(1, false)
  assert.equal(calls, 2)
  assert.deepEqual(await cache.get('findUser:[1,true]'), { id: 1, withPosts: true })
  assert.equal(await getUser.invalidate(1, true), true)
  assert.equal(await cache.exists('findUser:[1,true]'), false)
  assert.throws(() => cached(() => Promise.resolve(1), { cache }), InvalidArgumentError, 'an anonymous function needs a key')
  assert.throws(() => cached(findUser, {} as never), InvalidArgumentError)
  const empty = cached(findUser, { cache, key: () => '' })
  await assert.rejects(empty(1, true), InvalidArgumentError)
  await cache.close()
})

void test('envelope: open(seal(payload, staleAt, tags)) gives them back, for any payload and tags', () => {
  fc.assert(
    fc.property(
      fc.string(),
      fc.option(fc.integer({ min: 0, max: 2 ** 48 }), { nil: undefined }),
      fc.option(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 5 }), { nil: undefined }),
      (payload, staleAt, tags) => {
        const sealed = sealEnvelope(payload, staleAt, tags)
        if (staleAt === undefined && tags === undefined) {
          assert.equal(sealed, payload)
          return
        }
        assert.ok(hasHeader(sealed))
        assert.deepEqual(openEnvelope(sealed, 'k'), { payload, staleAt: staleAt ?? Infinity, tags })
      },
    ),
  )
})
