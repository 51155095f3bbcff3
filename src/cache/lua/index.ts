// Lua scripts live one per file, named `<name>-<numberOfKeys>.lua`, each opening with a header listing KEYS and ARGV.
// A line `--- @include "<name>"` is replaced by `includes/<name>.lua`, so helpers shared by several scripts stand
// once. Scripts are read once at import; the SHA of the expanded source lets callers use EVALSHA and fall back to
// EVAL on NOSCRIPT.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface LuaScript {
  name: string
  numberOfKeys: number
  source: string
  sha: string
}

const cache = new Map<string, LuaScript>()

/** Loads `lua/<file>` (e.g. `hset-ttl-2.lua`); the number of keys comes from the file name. */
export function loadLua(file: string): LuaScript {
  const cached = cache.get(file)
  if (cached) return cached
  const match = /^(.+)-(\d+)\.lua$/.exec(file)
  if (!match) throw new Error(`lua script file ${file} must be named <name>-<numberOfKeys>.lua`)
  const source = expandIncludes(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'), file)
  const script: LuaScript = {
    name: match[1]!,
    numberOfKeys: Number(match[2]),
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  }
  cache.set(file, script)
  return script
}

function expandIncludes(source: string, file: string): string {
  return source.replace(/^--- @include "([\w-]+)"$/gm, (_line, name: string) => {
    try {
      return readFileSync(new URL(`./includes/${name}.lua`, import.meta.url), 'utf8').trimEnd()
    } catch (error) {
      throw new Error(`lua script ${file}: cannot include ${JSON.stringify(name)} (${(error as Error).message})`, { cause: error })
    }
  })
}
