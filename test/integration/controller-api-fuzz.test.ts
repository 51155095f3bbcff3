// API fuzzing with fast-check: malformed bodies, path parameters, query strings and headers on every route never
// give a 5xx, and every error is the one error shape.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { SystemController } from '../../src/controller/system-controller.ts'
import { startController } from '../helpers/controller-api.ts'
import { embeddedEngines } from '../helpers/skald-run.ts'

const engines = embeddedEngines()
let controller: SystemController
before(async () => {
  controller = await startController(engines, { api: { port: 0, logLevel: 'silent', rateLimit: false, token: 'fuzz-token-0123456789abcdef' } })
  await engines.store.create({ id: 'fuzz-known', className: 'FuzzClass', source: 'test' })
})
after(async () => {
  await controller.stop()
  await engines.close()
})

const ROUTES: Array<[string, string]> = [
  ['GET', '/api/tasks/'],
  ['POST', '/api/tasks/'],
  ['POST', '/api/tasks/cancel'],
  ['GET', '/api/tasks/classnames'],
  ['GET', '/api/tasks/{id}'],
  ['PUT', '/api/tasks/{id}/status'],
  ['PUT', '/api/tasks/{id}/attachments'],
  ['DELETE', '/api/tasks/{id}'],
  ['POST', '/api/tasks/{id}/pause'],
  ['POST', '/api/tasks/{id}/resume'],
  ['POST', '/api/tasks/{id}/retry'],
  ['GET', '/api/tasks/{id}/heartbeat'],
  ['GET', '/api/tasks/{id}/progress'],
  ['GET', '/api/tasks/{id}/checkpoint'],
  ['GET', '/api/tasks/{id}/log'],
  ['GET', '/api/skalds/'],
  ['GET', '/api/skalds/{id}'],
  ['GET', '/api/skalds/{id}/tasks'],
  ['POST', '/api/skalds/{id}/ping'],
  ['GET', '/api/system/analytics/recent-activity'],
  ['GET', '/api/system/dashboard/summary'],
]

const idArb = fc.oneof(fc.constant('fuzz-known'), fc.string({ maxLength: 40 }), fc.constantFrom('%00', '..%2F..', '%E0%A4%A', 'a'.repeat(600), '{id}', '%20'))
const queryArb = fc.dictionary(
  fc.constantFrom('page', 'pageSize', 'lifecycleStatus', 'className', 'id', 'executor', 'mode', 'sortBy', 'sortOrder', 'limit', 'hours', 'type', 'status', 'x'),
  fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String), fc.constantFrom('-1', '1e309', 'NaN', '0x10', '', '%', '[]')),
  { maxKeys: 4 },
)
const bodyArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.record({ className: fc.oneof(fc.string(), fc.integer()), attachments: fc.jsonValue({ maxDepth: 2 }), priority: fc.oneof(fc.integer(), fc.string()), lifecycleStatus: fc.string() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{"__proto__": {"x": 1}}', '{"constructor": {"prototype": {}}}', '{"a":', '\u0000', '[]', 'null', '"x"', '{"lifecycleStatus": "Cancelled"}', '{"attachments": null}'),
)
const headerArb = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'garbage'),
    authorization: fc.oneof(fc.constant('Bearer fuzz-token-0123456789abcdef'), fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`), fc.constantFrom('Basic abc', 'Bearer', '')),
    'last-event-id': fc.string({ maxLength: 30 }),
  },
  { requiredKeys: [] },
)

void describe('controller API fuzzing', () => {
  void it('never answers 5xx; every error is the one error shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), idArb, queryArb, bodyArb, headerArb, async ([method, template], id, query, body, headers) => {
        const path = template.replace('{id}', encodeURIComponent(id).replaceAll('%25', '%'))
        const search = new URLSearchParams(query).toString()
        const init: RequestInit = { method, headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v))) }
        if (method !== 'GET') init.body = body
        const response = await fetch(`${controller.url}${path}${search ? `?${search}` : ''}`, init)
        const text = await response.text()
        assert.ok(response.status < 500, `${method} ${path}?${search} ${JSON.stringify(init)} → ${response.status} ${text}`)
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as Record<string, unknown>
          assert.equal(typeof parsed.error, 'string', text)
          assert.equal(typeof parsed.code, 'string', text)
          assert.equal(parsed.status_code, response.status, text)
          assert.doesNotMatch(text, /\bat .*\.ts:\d+/, 'no stack trace')
        }
      }),
      { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100000) },
    )
  })
})
