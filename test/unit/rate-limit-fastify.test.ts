// The Fastify plugin on the memory store, through fastify.inject.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { silentLogger } from '../../src/config/logger.ts'
import { rateLimitPlugin, type RateLimitPluginOptions } from '../../src/coordination/rate-limit/fastify-plugin.ts'

async function app(options: RateLimitPluginOptions): Promise<FastifyInstance> {
  const fastify = Fastify()
  // An auth hook ahead of the limiter, as an app would have.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const user = request.headers['x-user']
    if (typeof user === 'string') (request as unknown as { user: { id: string } }).user = { id: user }
    done()
  })
  await fastify.register(rateLimitPlugin, { logger: silentLogger, ...options })
  fastify.get('/open', () => ({ ok: true }))
  fastify.get('/expensive', { config: { rateLimit: { limit: 1, window: '1h', algorithm: 'fixed-window' } } }, () => ({ ok: true }))
  fastify.get('/health', { config: { rateLimit: false } }, () => ({ ok: true }))
  fastify.get('/me', { config: { rateLimit: { limit: 2, window: '1h', keyBy: 'user' } } }, () => ({ ok: true }))
  await fastify.ready()
  return fastify
}

void describe('rate limit Fastify plugin', () => {
  void it('applies the global limit with X-RateLimit and IETF headers, then 429 with a JSON body and Retry-After', async () => {
    const fastify = await app({ global: { limit: 2, window: '1h', algorithm: 'sliding-log' } })
    const first = await fastify.inject({ url: '/open' })
    assert.equal(first.statusCode, 200)
    assert.equal(first.headers['x-ratelimit-limit'], '2')
    assert.equal(first.headers['x-ratelimit-remaining'], '1')
    assert.equal(first.headers['x-ratelimit-reset'], '3600')
    assert.equal(first.headers['ratelimit-policy'], '"global";q=2;w=3600')
    assert.equal(first.headers.ratelimit, '"global";r=1;t=3600')
    assert.equal((await fastify.inject({ url: '/open' })).statusCode, 200)
    const denied = await fastify.inject({ url: '/open' })
    assert.equal(denied.statusCode, 429)
    assert.equal(denied.headers['x-ratelimit-remaining'], '0')
    const retry = Number(denied.headers['retry-after'])
    assert.ok(retry > 3590 && retry <= 3600, `Retry-After ${retry}`)
    const body = denied.json<{ statusCode: number; error: string; message: string; retryAfterMs: number }>()
    assert.equal(body.statusCode, 429)
    assert.equal(body.error, 'Too Many Requests')
    assert.equal(body.message, `Rate limit exceeded, retry in ${retry} s`)
    assert.ok(body.retryAfterMs > 3_590_000)
    // Another client IP has its own counter.
    assert.equal((await fastify.inject({ url: '/open', remoteAddress: '10.0.0.9' })).statusCode, 200)
    await fastify.close()
  })

  void it('per-route limits replace the global one; rateLimit: false exempts a route', async () => {
    const fastify = await app({ global: { limit: 100, window: '1h' } })
    assert.equal((await fastify.inject({ url: '/expensive' })).statusCode, 200)
    const denied = await fastify.inject({ url: '/expensive' })
    assert.equal(denied.statusCode, 429)
    assert.equal(denied.headers['ratelimit-policy'], '"GET /expensive";q=1;w=3600')
    assert.equal((await fastify.inject({ url: '/open' })).headers['x-ratelimit-remaining'], '99', 'the global counter is separate')
    for (let i = 0; i < 5; i++) {
      const health = await fastify.inject({ url: '/health' })
      assert.equal(health.statusCode, 200)
      assert.equal(health.headers['x-ratelimit-limit'], undefined)
    }
    await fastify.close()
  })

  void it('keys by user where configured (falling back to the IP), or by a function', async () => {
    const fastify = await app({})
    const as = (user?: string) => fastify.inject({ url: '/me', headers: user ? { 'x-user': user } : {} })
    assert.equal((await as('alice')).statusCode, 200)
    assert.equal((await as('alice')).statusCode, 200)
    assert.equal((await as('alice')).statusCode, 429)
    assert.equal((await as('bob')).statusCode, 200, 'another user has their own counter')
    assert.equal((await as()).statusCode, 200, 'no user: keyed by IP')
    assert.equal((await fastify.inject({ url: '/open' })).headers['x-ratelimit-limit'], undefined, 'no global rule: /open is not limited')
    await fastify.close()

    const byTenant = await app({ global: { limit: 1, window: '1h' }, keyBy: (req) => req.headers['x-tenant'] as string | undefined })
    assert.equal((await byTenant.inject({ url: '/open', headers: { 'x-tenant': 'a' } })).statusCode, 200)
    assert.equal((await byTenant.inject({ url: '/open', headers: { 'x-tenant': 'a' } })).statusCode, 429)
    assert.equal((await byTenant.inject({ url: '/open', headers: { 'x-tenant': 'b' } })).statusCode, 200)
    await byTenant.close()
  })

  void it('emits draft-07 IETF headers or none when asked, and can skip requests', async () => {
    const fastify = await app({ global: { limit: 5, window: '1m' }, headers: { ietf: 'draft-07', legacy: false }, skip: (req) => req.headers['x-internal'] === '1' })
    const res = await fastify.inject({ url: '/open' })
    assert.equal(res.headers['ratelimit-policy'], '5;w=60')
    assert.match(String(res.headers.ratelimit), /^limit=5, remaining=4, reset=\d+$/)
    assert.equal(res.headers['x-ratelimit-limit'], undefined)
    const skipped = await fastify.inject({ url: '/open', headers: { 'x-internal': '1' } })
    assert.equal(skipped.headers['ratelimit-policy'], undefined)
    await fastify.close()
  })

  void it('rejects bad configuration at registration, naming the field', async () => {
    await assert.rejects(app({ global: { limit: 0, window: '1m' } }), /global limit: must be a whole number >= 1/)
    await assert.rejects(app({ keyBy: 'cookie' as never }), /keyBy: must be 'ip', 'user' or a function/)
    await assert.rejects(app({ headers: { ietf: 'draft-99' as never } }), /headers.ietf/)
    const fastify = Fastify()
    await fastify.register(rateLimitPlugin, { logger: silentLogger })
    assert.throws(
      () => fastify.get('/bad', { config: { rateLimit: { limit: 5, window: 0 } } }, () => 'x'),
      /route GET \/bad config.rateLimit window: must be at least 1 ms/,
    )
    await fastify.close()
  })
})
