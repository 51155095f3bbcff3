// The session store contract (and the Fastify plugin over it): in-process, Redis 8, Redis 7.0, the cluster.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import Fastify from 'fastify'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { sessionPlugin, type SessionStore } from '../../src/coordination/session/index.ts'
import { hashSessionId } from '../../src/coordination/session/store.ts'
import { sleep } from '../helpers/wait.ts'

export interface SessionTarget {
  /** a store with the given default TTL (ms) */
  store(ttlMs: number): SessionStore<Record<string, unknown>>
  cleanup(): Promise<void>
}

export function sessionContract(name: string, factory: () => Promise<SessionTarget>): void {
  void describe(`session contract: ${name}`, () => {
    const run = (title: string, body: (t: SessionTarget) => Promise<void>) =>
      void test(title, async () => {
        const target = await factory()
        try {
          await body(target)
        } finally {
          await target.cleanup()
        }
      })

    run('create returns a 256-bit id; get returns the data; each id is new', async (t) => {
      const store = t.store(60_000)
      const before = Date.now()
      const session = await store.create('u1', { username: 'alice', permissions: ['read'], tags: [] })
      assert.match(session.id, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
      assert.equal(Buffer.from(session.id, 'base64url').length, 32)
      assert.equal(session.userId, 'u1')
      assert.ok(session.createdAt >= before && session.expiresAt === session.createdAt + 60_000)
      const read = await store.get(session.id)
      assert.deepEqual(read?.data, { username: 'alice', permissions: ['read'], tags: [] })
      assert.equal(read?.userId, 'u1')
      assert.equal(read?.createdAt, session.createdAt)
      const ids = new Set(await Promise.all(Array.from({ length: 20 }, async () => (await store.create('u1', {})).id)))
      assert.equal(ids.size, 20)
    })

    run('get renews the session (sliding expiry): a session used more often than its TTL outlives it', async (t) => {
      const store = t.store(2000)
      const session = await store.create('slider', { n: 1 })
      const started = Date.now()
      let last = session.expiresAt
      while (Date.now() - started < 4500) {
        await sleep(400)
        const read = await store.get(session.id)
        assert.ok(read, `alive ${Date.now() - started} ms after creation, past its 2000 ms TTL, because it was used`)
        assert.ok(read.expiresAt >= last)
        last = read.expiresAt
      }
      // Left alone, it expires (polling with get would renew it: sleep past the TTL, then look once).
      await sleep(3000)
      assert.equal(await store.get(session.id), undefined)
    })

    run('update replaces the data and keeps identity; unknown ids give undefined', async (t) => {
      const store = t.store(60_000)
      const session = await store.create('u2', { step: 1 })
      const updated = await store.update(session.id, { step: 2, list: [] })
      assert.deepEqual(updated?.data, { step: 2, list: [] })
      assert.equal(updated?.createdAt, session.createdAt)
      assert.deepEqual((await store.get(session.id))?.data, { step: 2, list: [] })
      const other = await store.create('u2', {})
      await store.destroy(other.id)
      assert.equal(await store.update(other.id, { x: 1 }), undefined)
    })

    run('returned data is a copy: mutating it does not change the stored session', async (t) => {
      const store = t.store(60_000)
      const session = await store.create('u3', { list: [1] })
      ;(session.data.list as number[]).push(2)
      const read = await store.get(session.id)
      ;(read!.data.list as number[]).push(3)
      assert.deepEqual((await store.get(session.id))?.data, { list: [1] })
    })

    run('destroy ends one session; destroyUser ends every session of that user only', async (t) => {
      const store = t.store(60_000)
      const a = await Promise.all([1, 2, 3].map((n) => store.create('alice', { n })))
      const b = await store.create('bob', { n: 9 })
      assert.equal(await store.destroy(a[0]!.id), true)
      assert.equal(await store.destroy(a[0]!.id), false)
      assert.equal(await store.get(a[0]!.id), undefined)
      assert.equal(await store.destroyUser('alice'), 2)
      for (const s of a) assert.equal(await store.get(s.id), undefined)
      assert.deepEqual((await store.get(b.id))?.data, { n: 9 })
      assert.equal(await store.destroyUser('alice'), 0)
      assert.equal(await store.destroyUser('nobody'), 0)
    })

    run('a per-session ttl overrides the default', async (t) => {
      const store = t.store(60_000)
      const short = await store.create('u4', {}, { ttl: '300ms' })
      assert.equal(short.ttlMs, 300)
      const long = await store.create('u4', {})
      await sleep(800)
      assert.equal(await store.get(short.id), undefined)
      assert.ok(await store.get(long.id))
    })

    run('malformed and unknown ids are simply not sessions', async (t) => {
      const store = t.store(60_000)
      for (const id of ['', 'short', 'x'.repeat(43) + '!', 'A'.repeat(43), '../../etc/passwd', 'a b c']) {
        assert.equal(await store.get(id), undefined, JSON.stringify(id))
        assert.equal(await store.destroy(id), false)
      }
      const session = await store.create('u5', {})
      assert.equal(await store.get(hashSessionId(session.id)), undefined, 'the stored hash is not itself a valid id')
    })

    run('bad input is rejected naming the field', async (t) => {
      const store = t.store(60_000)
      const invalid = (pattern: RegExp) => (e: Error) => e instanceof InvalidArgumentError && pattern.test(e.message)
      await assert.rejects(store.create('', {}), invalid(/userId: must be a non-empty string/))
      await assert.rejects(store.create('u', { big: 1n }), invalid(/data: not JSON-serializable/))
      await assert.rejects(store.create('u', undefined as never), invalid(/data: undefined is not JSON-serializable/))
      await assert.rejects(store.create('u', {}, { ttl: 0 }), invalid(/ttl: must be at least 1 ms/))
      await assert.rejects(store.create('u', {}, { ttl: 'soon' as never }), /ttl: "soon" is not a duration/)
      await assert.rejects(store.destroyUser(''), invalid(/userId/))
    })

    run('fastify plugin: cookie or bearer authenticates; missing or expired answers 401 JSON; routes can opt out', async (t) => {
      const store = t.store(60_000)
      const app = Fastify()
      await app.register(sessionPlugin, { store, cookie: { secure: true } })
      app.post('/login', { config: { session: false } }, async (_request, reply) => {
        const session = await reply.startSession('carol', { role: 'admin' })
        return { id: session.id }
      })
      app.get('/me', (request, reply) => reply.send({ userId: request.session!.userId, data: request.session!.data }))
      app.get('/public', { config: { session: 'optional' } }, (request, reply) => reply.send({ anonymous: request.session === null }))
      app.post('/logout', async (_request, reply) => {
        await reply.endSession()
        return { ok: true }
      })
      try {
        const login = await app.inject({ method: 'POST', url: '/login' })
        assert.equal(login.statusCode, 200)
        const setCookie = String(login.headers['set-cookie'])
        const id = (login.json<{ id: string }>()).id
        assert.match(setCookie, new RegExp(`^sid=${id}; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60$`))

        const byCookie = await app.inject({ url: '/me', headers: { cookie: `theme=dark; sid=${id}` } })
        assert.equal(byCookie.statusCode, 200)
        assert.deepEqual(byCookie.json(), { userId: 'carol', data: { role: 'admin' } })
        assert.match(String(byCookie.headers['set-cookie']), /Max-Age=60/, 'rolling cookie')
        const byBearer = await app.inject({ url: '/me', headers: { authorization: `Bearer ${id}` } })
        assert.equal(byBearer.statusCode, 200)

        const missing = await app.inject({ url: '/me' })
        assert.equal(missing.statusCode, 401)
        assert.equal(missing.json<{ code: string }>().code, 'E_SESSION_MISSING')
        const bogus = await app.inject({ url: '/me', headers: { authorization: 'Bearer ' + 'A'.repeat(43) } })
        assert.equal(bogus.statusCode, 401)
        assert.equal(bogus.json<{ code: string }>().code, 'E_SESSION_EXPIRED')

        assert.deepEqual((await app.inject({ url: '/public' })).json(), { anonymous: true })
        assert.deepEqual((await app.inject({ url: '/public', headers: { authorization: `Bearer ${id}` } })).json(), { anonymous: false })

        const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: `sid=${id}` } })
        assert.equal(logout.statusCode, 200)
        assert.match(String(logout.headers['set-cookie']), /^sid=; .*Max-Age=0/)
        const after = await app.inject({ url: '/me', headers: { cookie: `sid=${id}` } })
        assert.equal(after.statusCode, 401)
        assert.equal(after.json<{ code: string }>().code, 'E_SESSION_EXPIRED')
        assert.match(String(after.headers['set-cookie']), /Max-Age=0/, 'a dead cookie is cleared')
      } finally {
        await app.close()
      }
    })

    run('fastify plugin: an expired session answers 401', async (t) => {
      const store = t.store(60_000)
      const app = Fastify()
      await app.register(sessionPlugin, { store, cookieName: 'skalds_sid', cookie: { secure: false } })
      app.get('/me', (request, reply) => reply.send({ userId: request.session!.userId }))
      try {
        const session = await store.create('dave', {}, { ttl: '2s' })
        assert.equal((await app.inject({ url: '/me', headers: { cookie: `skalds_sid=${session.id}` } })).statusCode, 200)
        await sleep(2600)
        const expired = await app.inject({ url: '/me', headers: { cookie: `skalds_sid=${session.id}` } })
        assert.equal(expired.statusCode, 401)
        assert.equal(expired.json<{ code: string }>().code, 'E_SESSION_EXPIRED')
        await assert.rejects(async () => {
          const bad = Fastify()
          await bad.register(sessionPlugin, { store, cookieName: 'bad name' })
          await bad.ready()
        }, /cookieName/)
      } finally {
        await app.close()
      }
    })
  })
}
