// Build step: copies every Lua script under src/ to the same place under dist/, because each module loads the
// scripts of the `lua/` folder beside it (src/redis/lua.ts) and tsc copies only what it compiles.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'

const root = join(import.meta.dirname, '..')
let copied = 0
for (const file of readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.lua')) continue
  const target = join(root, 'dist', file)
  mkdirSync(dirname(target), { recursive: true })
  copyFileSync(join(root, 'src', file), target)
  copied++
}
console.log(`copy-lua: ${copied} scripts copied to dist/`)
