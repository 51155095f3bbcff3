// The API's guards: the bearer token (mutating routes, or every route in strict mode), CORS as configured (never
// `*` with credentials), rate limiting through the toolkit's plugin, and options refused with the field named.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { buildControllerApi, storeReads, ApiOptionsError } from '../../src/controller/index.ts'
import type { SystemController, SystemControllerOptions } from '../../src/controller/system-controller.ts'
import { apiClient, startController } from '../helpers/controller-api.ts'
import { embeddedEngines } from '../helpers/skald-run.ts'

const engines = embeddedEngines()
const controllers: SystemController[] = []
after(async () => {
  for (const c of controllers) await c.stop()
  await engines.close()
})
const TOKEN = 'a-very-secret-token-0123456789'
const start = async (api: SystemControllerOptions['api']) => {
  const c = await startController(engines, { api })
  controllers.push(c)
  return apiClient(c.url!)
}

void describe('controller API security', () => {
  void it('with a token: mutating routes need it (401 in the one error shape), reads do not', async () => {
    const api = await start({ token: TOKEN, logLevel: 'silent' })
    const anonymous = await api.call('POST', '/api/tasks/', { id: 'sec-1', className: 'X' })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.body.code, 'E_UNAUTHORIZED')
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
    const wrong = await api.call('POST', '/api/tasks/', { id: 'sec-1', className: 'X' }, { authorization: `Bearer ${TOKEN}x` })
    assert.equal(wrong.status, 401)
    assert.doesNotMatch(JSON.stringify(wrong.body), new RegExp(TOKEN), 'the token is never echoed')
    const shortWrong = await api.call('DELETE', '/api/tasks/sec-1', undefined, { authorization: 'Bearer x' })
    assert.equal(shortWrong.status, 401)
    const ok = await api.call('POST', '/api/tasks/', { id: 'sec-1', className: 'X' }, { authorization: `Bearer ${TOKEN}` })
    assert.equal(ok.status, 201)
    assert.equal((await api.call('GET', '/api/tasks/sec-1')).status, 200)
    assert.equal((await api.call('GET', '/api/system/health')).status, 200)
    assert.equal((await api.call('DELETE', '/api/tasks/sec-1', undefined, { authorization: `bearer   ${TOKEN}` })).status, 200)
  })

  void it('strict mode needs the token on every route, reads and metrics included', async () => {
    const api = await start({ token: TOKEN, strict: true, logLevel: 'silent' })
    for (const path of ['/api/tasks/', '/api/system/health', '/metrics', '/api/openapi.json']) {
      assert.equal((await api.call('GET', path)).status, 401, path)
      assert.equal((await api.call('GET', path, undefined, { authorization: `Bearer ${TOKEN}` })).status, 200, path)
    }
  })

  void it('CORS: the listed origins only; credentials never with *', async () => {
    const api = await start({ cors: { origins: ['https://ops.example.com'], credentials: true }, logLevel: 'silent' })
    const allowed = await api.call('GET', '/api/tasks/', undefined, { origin: 'https://ops.example.com' })
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://ops.example.com')
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true')
    const other = await api.call('GET', '/api/tasks/', undefined, { origin: 'https://evil.example.com' })
    assert.equal(other.headers.get('access-control-allow-origin'), null)
    const preflight = await fetch(`${api.url}/api/tasks/x`, { method: 'OPTIONS', headers: { origin: 'https://ops.example.com', 'access-control-request-method': 'DELETE' } })
    assert.equal(preflight.status, 204)
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /DELETE/)
    const none = await start({ logLevel: 'silent' })
    assert.equal((await none.call('GET', '/api/tasks/', undefined, { origin: 'https://ops.example.com' })).headers.get('access-control-allow-origin'), null)
  })

  void it('rate limits through the toolkit plugin: 429 with Retry-After past the limit', async () => {
    const api = await start({ rateLimit: { global: { limit: 5, window: '1m' } }, logLevel: 'silent' })
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) statuses.push((await api.call('GET', '/api/tasks/')).status)
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429])
    const limited = await api.call('GET', '/api/system/health')
    assert.equal(limited.status, 429)
    assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  })

  void it('refuses options that cannot work, naming the field', async () => {
    const deps = { store: engines.store, reads: storeReads(engines.store) } as unknown as Parameters<typeof buildControllerApi>[0]
    const cases: Array<[Parameters<typeof buildControllerApi>[1], RegExp]> = [
      [{ token: 'short' }, /^token: /],
      [{ strict: true }, /^strict: needs a token/],
      [{ cors: { origins: '*', credentials: true } }, /^cors\.credentials: /],
      [{ cors: { origins: ['ops.example.com'] } }, /^cors\.origins\[0\]: must be an origin/],
      [{ cors: { origins: [] } }, /^cors\.origins: must list at least one origin/],
      [{ bodyLimitBytes: 10 }, /^bodyLimitBytes: /],
    ]
    for (const [options, message] of cases) {
      await assert.rejects(buildControllerApi(deps, options), (e: unknown) => e instanceof ApiOptionsError && e.code === 'E_API_OPTIONS_INVALID' && message.test(e.message), JSON.stringify(options))
    }
  })
})
