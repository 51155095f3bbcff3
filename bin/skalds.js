#!/usr/bin/env node
// The `skalds` command. Plain JavaScript so that any Node can parse it and say clearly when it is too old. From a
// checkout it runs the TypeScript sources (Node 24 strips their types); installed under node_modules, where Node
// refuses to strip types, it runs the build in dist/.
import { sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(
    `skalds: needs Node.js 24 or newer, this is ${process.version} (${process.execPath}).\n` +
      '  In a checkout, run it as `npx skalds …` (npm puts the pinned Node 24 of node_modules/.bin first on PATH), or install Node 24.\n',
  )
  process.exit(2)
}
const installed = fileURLToPath(import.meta.url).split(sep).includes('node_modules')
const { main } = await import(installed ? '../dist/cli/main.js' : '../src/cli/main.ts')
await main()
