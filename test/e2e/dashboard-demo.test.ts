// The main job as a new user meets it: `skalds demo` (the real bin, a child process, embedded engines) and the
// dashboard it serves, driven in headless Chromium. Create a stream-analysis task in the UI and see it Running;
// change its attachments in place and see the worker take them (its log says so); cancel it. Pause the seeded
// batch report and resume it, and see it continue from its checkpoint. Check the Skalds and Cache pages. Stop and
// start the demo under the page and see it reconnect. Screenshots of each page at 1280×800 and 390×844 in
// test-output/dashboard-demo/ (and the README's picture, readme-dashboard-tasks.png).
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Locator, Page } from 'playwright-core'
import { DEFAULT_DASHBOARD_ROOT } from '../../src/controller/http/dashboard.ts'
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts'
import { startCli, type LongRunning } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'
import { killAll } from '../helpers/skald-processes.ts'
import { waitFor } from '../helpers/wait.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const OUT = join(ROOT, 'test-output', 'dashboard-demo')
const dir = mkdtempSync(join(tmpdir(), 'skalds-dashboard-demo-'))
const children: ChildProcess[] = []
let demo: LongRunning
let port = 0
let url = ''
let browser: TestBrowser
let restarting = false

function startDemo(): Promise<LongRunning> {
  return startCli(['demo', '--port', String(port), '--data-dir', join(dir, 'data')], /Ctrl-C stops it/, { cwd: dir }, children)
}

async function stopDemo(): Promise<void> {
  demo.child.kill('SIGINT')
  const { code } = await demo.exited
  assert.equal(code, 0, demo.output())
}

async function waitText(locator: Locator, pattern: RegExp, what: string, timeoutMs = 20_000): Promise<void> {
  let last = null as string | null
  try {
    await waitFor(async () => pattern.test((last = await locator.first().textContent({ timeout: 1000 }).catch(() => null)) ?? ''), what, timeoutMs, 100)
  } catch (error) {
    throw new Error(`${(error as Error).message}; the text was: ${JSON.stringify(last?.slice(-600))}`, { cause: error })
  }
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 })
const go = (page: Page, path: string) => page.evaluate(`window.history.pushState(null, '', ${JSON.stringify(`/dashboard/${path}`)}); window.dispatchEvent(new PopStateEvent('popstate'))`)

before(async () => {
  assert.ok(existsSync(join(DEFAULT_DASHBOARD_ROOT, 'index.html')), 'the dashboard is not built: run `npm run build:dashboard`')
  port = await freePort()
  demo = await startDemo()
  url = /Dashboard: (http:\/\/\S+)/.exec(demo.output())![1]!
  // expected: the attachments the worker's schema refuses (400, shown next to the field), and the live streams and
  // API calls while the demo restarts
  browser = await launchBrowser({
    ignore: (p) => (/400/.test(p.text) && /\/attachments$/.test(p.url ?? '')) || (restarting && /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|503/.test(p.text)),
  })
})

after(async () => {
  await browser?.close()
  killAll(children)
  rmSync(dir, { recursive: true, force: true })
})

void describe('skalds demo in Chromium', () => {
  let streamTask = ''

  void it('creates a stream analysis in the UI, changes its attachments live (the worker logs them), cancels it', async () => {
    const page = await browser.newPage({ width: 1280, height: 800, colorScheme: 'light' })
    await page.goto(`${url}/dashboard/tasks`)
    await waitText(page.locator('.conn'), /Live/, 'the live indicator')
    await page.getByRole('button', { name: 'New task' }).click()
    await page.getByLabel('Class (required)').fill('StreamAnalysis')
    await page.getByLabel('Name', { exact: true }).fill('Parking lot camera')
    await page.getByLabel('Attachments (JSON object)').fill('{"streamUrl": "rtsp://cams/parking", "fps": 5, "detect": ["car"]}')
    await page.getByRole('button', { name: 'Create task' }).click()
    await page.waitForURL(/\/dashboard\/tasks\/[^/]+$/, { timeout: 10_000 })
    streamTask = decodeURIComponent(page.url().split('/').at(-1) ?? '')
    await waitText(heading(page), /Parking lot camera\s*Running/, 'the task to be Running')
    await waitText(page.locator('.log'), /connecting to rtsp:\/\/cams\/parking at 5 fps/, 'the worker log in the live tail')

    // attachments edited in place; a value the worker's schema refuses is shown next to the field first
    const editor = page.getByRole('region', { name: 'Attachments' }).getByLabel('Attachments (JSON object)')
    await editor.fill('{"streamUrl": "rtsp://cams/parking", "fps": 0, "detect": ["car"]}')
    await page.getByRole('button', { name: 'Save attachments' }).click()
    await waitText(page.getByRole('region', { name: 'Attachments' }).locator('.field-error'), /fps/, 'the refusal next to the field')
    await editor.fill('{"streamUrl": "rtsp://cams/gate", "fps": 10, "detect": ["car", "person"]}')
    await page.getByRole('button', { name: 'Save attachments' }).click()
    await waitText(page.locator('.log'), /attachments updated: streamUrl=rtsp:\/\/cams\/gate fps=10 detect=car,person/, 'the worker to log the new attachments', 30_000)
    await browser.screenshot(page, OUT, 'task-running-desktop')
    // the README's picture (docs/images/dashboard-tasks.png is copied from it by hand): the viewport only
    await page.evaluate('window.scrollTo(0, 0)')
    await page.screenshot({ path: join(OUT, 'readme-dashboard-tasks.png') })

    await page.getByRole('button', { name: 'Cancel task Parking lot camera' }).click()
    await page.getByRole('button', { name: 'Confirm cancelling task Parking lot camera' }).click()
    await waitText(heading(page), /Cancelled/, 'the task to be Cancelled')
    await waitText(page.getByRole('region', { name: 'Timeline' }), /Running[\s\S]*demo-node-\d[\s\S]*Cancelled/, 'the timeline: which node ran it, then the cancel')
    await page.close()
    assert.deepEqual(browser.problems, [], 'no console errors')
  })

  void it('pauses the seeded batch report and resumes it from its checkpoint', async () => {
    const page = await browser.newPage({ width: 1280, height: 800, colorScheme: 'dark' })
    await page.goto(`${url}/dashboard/tasks/demo-batch-report`)
    await waitText(heading(page), /Monthly report[\s\S]*Running/, 'the seeded report to be Running')
    await waitText(page.locator('.progress-row'), /[1-9][0-9.]*%/, 'some steps done')
    await page.getByRole('button', { name: /^Pause task Monthly report/ }).click()
    await waitText(heading(page), /Paused/, 'the report to be Paused')
    await waitText(page.getByRole('region', { name: 'Checkpoint' }), /"step": [1-9]/, 'the checkpoint shown')
    await page.getByRole('button', { name: /^Resume task Monthly report/ }).click()
    await waitText(heading(page), /Running/, 'the report to run again')
    await waitText(page.locator('.log'), /resuming from step [1-9]\d* of/, 'the resumed run to start from its checkpoint', 30_000)
    await page.close()
    assert.deepEqual(browser.problems, [], 'no console errors')
  })

  void it('shows the overview, tasks, Skalds and Cache pages at both sizes', async () => {
    for (const combo of [
      { width: 1280, height: 800, colorScheme: 'light', name: 'desktop' },
      { width: 390, height: 844, colorScheme: 'dark', name: 'phone' },
    ] as const) {
      const page = await browser.newPage(combo)
      await page.goto(`${url}/dashboard`)
      await waitText(page.getByRole('region', { name: 'Skalds online' }), /2 \/ 2/, 'both demo nodes online')
      await browser.screenshot(page, OUT, `overview-${combo.name}`)
      await go(page, 'tasks')
      await waitText(page.getByRole('region', { name: 'Task list' }), /Monthly report[\s\S]*|Parking lot camera/, 'the task list')
      await browser.screenshot(page, OUT, `tasks-${combo.name}`)
      await go(page, `tasks/${encodeURIComponent(streamTask)}`)
      await waitText(heading(page), /Parking lot camera\s*Cancelled/, 'the task view')
      await browser.screenshot(page, OUT, `task-${combo.name}`)
      await go(page, 'skalds')
      await waitText(page.locator('main'), /demo-node-1[\s\S]*demo-node-2/, 'both Skalds')
      await waitText(page.locator('main'), /StreamAnalysis/, 'their classes')
      await browser.screenshot(page, OUT, `skalds-${combo.name}`)
      await go(page, 'cache')
      await waitText(page.locator('main'), /Per cache type/, 'the cache statistics')
      await browser.screenshot(page, OUT, `cache-${combo.name}`)
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'))
      assert.ok(overflow <= 1, `the cache page at ${combo.name} scrolls sideways by ${overflow}px`)
      await page.close()
    }
    assert.deepEqual(browser.problems, [], 'no console errors')
  })

  void it('reconnects when the demo is stopped and started again, and finds its tasks', async () => {
    const page = await browser.newPage({ width: 1280, height: 800, colorScheme: 'light' })
    await page.goto(`${url}/dashboard/tasks`)
    await waitText(page.locator('.conn'), /Live/, 'the live indicator')
    restarting = true
    await stopDemo()
    await waitText(page.locator('.conn'), /Reconnecting|Offline/, 'the indicator to show the lost connection')
    demo = await startDemo()
    assert.match(demo.output(), /from an earlier run/, 'the second run finds its tasks')
    await waitText(page.locator('.conn'), /Live/, 'the indicator to be live again', 30_000)
    await waitText(page.getByRole('region', { name: 'Task list' }), /Parking lot camera/, 'the list after the restart', 20_000)
    restarting = false
    await page.close()
    assert.deepEqual(browser.problems, [], 'no console errors')
    await stopDemo()
  })
})
