// `npm install`'s prepare step: builds the dashboard (dashboard/dist) unless the build is newer than every source
// file, so a fresh clone serves it at once and a repeated install costs nothing. Without Vite (an install without
// dev dependencies) it says so and leaves the controller to answer /dashboard with a 503 naming the fix.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const dashboard = join(root, 'dashboard')
const built = join(dashboard, 'dist', 'index.html')
const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js')

function newest(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))))
}

if (!existsSync(dashboard)) process.exit(0) // a packed copy without the sources: the build ships in dashboard/dist
const sources = Math.max(newest(join(dashboard, 'src')), newest(join(dashboard, 'index.html')), newest(join(dashboard, 'vite.config.ts')))
if (existsSync(built) && statSync(built).mtimeMs >= sources) {
  console.log('dashboard: build is up to date (dashboard/dist)')
} else if (!existsSync(vite)) {
  console.log('dashboard: not built (Vite is not installed: install the dev dependencies, then run `npm run build:dashboard`)')
} else {
  execFileSync(process.execPath, [vite, 'build', '--config', join(dashboard, 'vite.config.ts')], { cwd: root, stdio: 'inherit' })
  console.log('dashboard: built into dashboard/dist')
}
