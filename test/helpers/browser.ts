// Headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core, with a fresh user-data dir
// and the flags that keep it from reaching for hosts this machine cannot reach (background networking, component
// updates, sync). Pages record their console errors and uncaught exceptions, so a test can assert there were none.
// A missing Chromium is an error naming the fix, never a skip.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface PageOptions {
  width: number
  height: number
  colorScheme: 'light' | 'dark'
}

export interface BrowserProblem {
  page: string
  text: string
  url: string | undefined
}

export interface TestBrowser {
  context: BrowserContext
  /** a new tab with this viewport and colour scheme; its console errors go to `problems` */
  newPage(options: PageOptions): Promise<Page>
  /** console errors and uncaught exceptions of every page, minus those `ignore` accepts */
  problems: BrowserProblem[]
  /** saves a full-page screenshot as `<dir>/<name>.png`; returns its path */
  screenshot(page: Page, dir: string, name: string): Promise<string>
  close(): Promise<void>
}

export interface LaunchOptions {
  /** console errors that are expected (e.g. a 404 the app handles): return true to leave them out of `problems` */
  ignore?: (problem: BrowserProblem) => boolean
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: run 'npm run services -- up chromium' (Debian's package) or set CHROMIUM_PATH to its path`)
  }
  const userData = mkdtempSync(join(tmpdir(), 'skalds-chromium-'))
  const context = await chromium.launchPersistentContext(userData, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 800 } })
  const problems: BrowserProblem[] = []
  const note = (problem: BrowserProblem) => {
    if (!options.ignore?.(problem)) problems.push(problem)
  }
  // the persistent context opens with one blank tab: close it so every page is ours
  for (const page of context.pages()) await page.close()
  return {
    context,
    problems,
    async newPage({ width, height, colorScheme }) {
      const page = await context.newPage()
      await page.setViewportSize({ width, height })
      await page.emulateMedia({ colorScheme })
      page.on('console', (message: ConsoleMessage) => {
        if (message.type() === 'error') note({ page: page.url(), text: message.text(), url: message.location().url })
      })
      if (process.env.SKALDS_BROWSER_DEBUG) {
        page.on('console', (m: ConsoleMessage) => console.log(`[browser ${m.type()}] ${m.text()} ${m.location().url}`))
        page.on('requestfailed', (r) => console.log(`[browser request failed] ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`))
        page.on('response', (r) => console.log(`[browser] ${r.status()} ${r.request().method()} ${r.url()}`))
      }
      page.on('pageerror', (error) => note({ page: page.url(), text: `uncaught: ${error.message}`, url: undefined }))
      return page
    },
    async screenshot(page, dir, name) {
      mkdirSync(dir, { recursive: true })
      const path = join(dir, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
    async close() {
      await context.close()
      rmSync(userData, { recursive: true, force: true })
    },
  }
}
