// The web dashboard (dashboard/, a Vite + React app) served by the controller: its hashed assets under
// /dashboard/assets/ through @fastify/static, its page at /dashboard and every client route below it (the SPA
// fallback), and at / for browsers. Without a build, those pages answer a 503 saying how to build it.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody } from './errors.ts'

/**
 * Where `npm run build:dashboard` writes the app: dashboard/dist at the package's root. Both src/controller/http and
 * dist/controller/http sit three folders below it, so one relative path serves the sources and the build.
 */
export const DEFAULT_DASHBOARD_ROOT = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url))

export interface DashboardOptions {
  /** the built app's folder (index.html, assets/); default the package's dashboard/dist */
  root?: string
}

/** Whether the client asked for a page (a browser navigating) rather than data. */
export function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept
  return typeof accept === 'string' && accept.includes('text/html')
}

/**
 * The requests the dashboard answers, which must pass without the API token even in strict mode: the app's page and
 * assets hold no data, and the app itself asks for the token before calling the API.
 */
export function isDashboardRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false
  const path = request.url.split('?')[0] ?? ''
  return path === '/dashboard' || path.startsWith('/dashboard/') || (path === '/' && wantsHtml(request))
}

const NOT_BUILT = 'the dashboard is not built: run `npm run build:dashboard` in the skalds package (a fresh `npm install` runs it too), then restart the controller'

function notBuiltPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Skalds dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1f24;background:#fff}@media(prefers-color-scheme:dark){body{color:#e6e9ee;background:#111418}}code{background:#8882;padding:.1em .3em;border-radius:4px}</style></head>
<body><main><h1>The dashboard is not built</h1><p>This controller runs, and its API answers at <a href="/api/docs">/api/docs</a>, but the dashboard's files are missing.</p>
<p>Build them with <code>npm run build:dashboard</code> in the skalds package (a fresh <code>npm install</code> runs it too), then restart the controller.</p></main></body></html>`
}

export interface Dashboard {
  /** whether the build was found when the controller started */
  built: boolean
  /** answers with the app's page (or the 503 without a build) */
  page(request: FastifyRequest, reply: FastifyReply): FastifyReply
  /** registers the assets and the page routes on `app` */
  register(app: FastifyInstance): Promise<void>
}

/** The dashboard over the build in `root`, looked up once: a build made later needs a restart. */
export function createDashboard(options: DashboardOptions = {}): Dashboard {
  const root = options.root ?? DEFAULT_DASHBOARD_ROOT
  const indexFile = join(root, 'index.html')
  const built = existsSync(indexFile) && existsSync(join(root, 'assets'))
  // index.html is small and changes only with a rebuild (which needs a restart anyway): read once.
  const html = built ? readFileSync(indexFile) : undefined

  function page(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (html) return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html)
    void reply.code(503).header('cache-control', 'no-store')
    if (wantsHtml(request)) return reply.type('text/html; charset=utf-8').send(notBuiltPage())
    return reply.send(errorBody(request, 503, 'E_DASHBOARD_NOT_BUILT', NOT_BUILT))
  }

  return {
    built,
    page,
    async register(app) {
      if (built) {
        // Vite names assets by content hash: cache them for a year; a missing one falls to the API's 404.
        await app.register(fastifyStatic, { root: join(root, 'assets'), prefix: '/dashboard/assets/', immutable: true, maxAge: '365d', index: false, dotfiles: 'ignore', decorateReply: false })
      }
      // Every other path below /dashboard is a client route (/dashboard/tasks/t-1): the app's page.
      app.get('/dashboard', { schema: { hide: true } }, page)
      app.get('/dashboard/*', { schema: { hide: true } }, page)
    },
  }
}
