// The controller serves the dashboard: its page at / (to browsers; JSON to the rest) and at /dashboard with every
// client route below it, its hashed assets, all without the token in strict mode (the app asks for it), and a 503
// naming the fix when the build is missing. Needs the build (`npm run build:dashboard`; `npm install` runs it).
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DEFAULT_DASHBOARD_ROOT } from '../../src/controller/http/dashboard.ts'
import type { SystemController } from '../../src/controller/system-controller.ts'
import { startController } from '../helpers/controller-api.ts'
import { embeddedEngines } from '../helpers/skald-run.ts'

const TOKEN = 'dashboard-test-token-0123456789'
const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }
const engines = embeddedEngines()
const empty = mkdtempSync(join(tmpdir(), 'skalds-no-dashboard-'))
let built: SystemController
let strict: SystemController
let missing: SystemController
let off: SystemController

before(async () => {
  assert.ok(existsSync(join(DEFAULT_DASHBOARD_ROOT, 'index.html')), `the dashboard is not built in ${DEFAULT_DASHBOARD_ROOT}: run \`npm run build:dashboard\``)
  built = await startController(engines)
  strict = await startController(engines, { api: { token: TOKEN, strict: true } })
  missing = await startController(engines, { api: { dashboard: { root: empty } } })
  off = await startController(engines, { api: { dashboard: false } })
})
after(async () => {
  for (const c of [built, strict, missing, off]) await c.stop()
  await engines.close()
  rmSync(empty, { recursive: true, force: true })
})

const assetOf = (page: string): string => {
  const match = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(page)
  assert.ok(match?.[1], 'the page links its script')
  return match[1]
}

void describe('the dashboard, served by the controller', () => {
  void it('answers / with the page to browsers and the JSON description to the rest', async () => {
    const page = await fetch(`${built.url}/`, { headers: html })
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
    const text = await page.text()
    assert.match(text, /<div id="root">/)
    assert.equal(text, readFileSync(join(DEFAULT_DASHBOARD_ROOT, 'index.html'), 'utf8'))
    const json = await fetch(`${built.url}/`)
    assert.equal(json.status, 200)
    const body = (await json.json()) as { name: string; endpoints: { dashboard: string | null } }
    assert.equal(body.name, 'Skalds SystemController')
    assert.equal(body.endpoints.dashboard, '/dashboard')
  })

  void it('answers /dashboard and every client route below it with the page (the SPA fallback), without caching it', async () => {
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/tasks', '/dashboard/tasks/some%20task?status=Running', '/dashboard/skalds']) {
      const r = await fetch(built.url + path)
      assert.equal(r.status, 200, path)
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/, path)
      assert.equal(r.headers.get('cache-control'), 'no-cache', path)
      assert.match(await r.text(), /<div id="root">/, path)
    }
  })

  void it('serves the hashed assets for a year, and a missing one is the API\'s 404', async () => {
    const asset = assetOf(await (await fetch(`${built.url}/dashboard`)).text())
    const r = await fetch(built.url + asset)
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type') ?? '', /javascript/)
    assert.match(r.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/)
    assert.ok((await r.text()).length > 1000)
    const gone = await fetch(`${built.url}/dashboard/assets/nothing-here.js`)
    assert.equal(gone.status, 404)
    assert.equal(((await gone.json()) as { code: string }).code, 'E_ROUTE_NOT_FOUND')
  })

  void it('in strict token mode, loads the page and assets without the token while the API still needs it', async () => {
    const page = await fetch(`${strict.url}/dashboard/tasks`)
    assert.equal(page.status, 200)
    assert.equal((await fetch(strict.url + assetOf(await page.text()))).status, 200)
    assert.equal((await fetch(`${strict.url}/`, { headers: html })).status, 200)
    assert.equal((await fetch(`${strict.url}/`)).status, 401, 'the JSON description is a read like the others')
    assert.equal((await fetch(`${strict.url}/api/tasks`)).status, 401)
    assert.equal((await fetch(`${strict.url}/api/tasks`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200)
    assert.equal((await fetch(`${strict.url}/dashboard`, { method: 'POST' })).status, 401, 'only reads of the page pass')
  })

  void it('without a build, answers 503 saying how to build it (a page to browsers, the error shape to the rest)', async () => {
    const page = await fetch(`${missing.url}/dashboard/tasks`, { headers: html })
    assert.equal(page.status, 503)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await page.text(), /npm run build:dashboard/)
    const json = await fetch(`${missing.url}/dashboard`)
    assert.equal(json.status, 503)
    const body = (await json.json()) as { code: string; error: string }
    assert.equal(body.code, 'E_DASHBOARD_NOT_BUILT')
    assert.match(body.error, /npm run build:dashboard/)
    assert.equal((await fetch(`${missing.url}/`)).status, 200, 'the JSON root still answers')
    assert.equal((await fetch(`${missing.url}/api/system/health`)).status, 200, 'the API is unaffected')
  })

  void it('with dashboard: false, / is JSON for everyone and /dashboard is not a route', async () => {
    const r = await fetch(`${off.url}/`, { headers: html })
    assert.equal(r.status, 200)
    assert.equal(((await r.json()) as { endpoints: { dashboard: string | null } }).endpoints.dashboard, null)
    assert.equal((await fetch(`${off.url}/dashboard`)).status, 404)
  })

  void it('keeps the dashboard out of the OpenAPI document', async () => {
    const doc = (await (await fetch(`${built.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/dashboard')))
    assert.ok('Task' in doc.components.schemas, 'the named schemas the routes $ref are in the document')
  })
})
