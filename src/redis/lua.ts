// Lua scripts live one per file, named `<name>-<numberOfKeys>.lua`, each opening with a header listing KEYS and ARGV,
// in a `lua/` folder next to the module that runs them. A line `--- @include "<name>"` is replaced by
// `includes/<name>.lua` of the same folder, so helpers shared by several scripts stand once. Scripts are read once;
// the SHA of the expanded source lets callers use EVALSHA and fall back to EVAL on NOSCRIPT.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** @internal Loaded by the modules that run them; RedisConnection.evalScript is for the library's layers. */
export interface LuaScript {
  name: string
  numberOfKeys: number
  source: string
  sha: string
}

/**
 * The loader of one folder of scripts: `const loadLua = luaLoader(new URL('./lua/', import.meta.url))`, then
 * `loadLua('hset-ttl-2.lua')`; the number of keys comes from the file name. The folder is found relative to the
 * caller's own file, so the same line works from src (node runs the .ts) and from dist (the build copies each
 * `lua/` folder beside its compiled module).
 */
export function luaLoader(dir: URL): (file: string) => LuaScript {
  const cache = new Map<string, LuaScript>()
  return (file) => loadLua(file, dir, cache)
}

function loadLua(file: string, dir: URL, cache: Map<string, LuaScript>): LuaScript {
  const cached = cache.get(file)
  if (cached) return cached
  const match = /^(.+)-(\d+)\.lua$/.exec(file)
  if (!match) throw new Error(`lua script file ${file} must be named <name>-<numberOfKeys>.lua`)
  const source = expandIncludes(readFileSync(new URL(file, dir), 'utf8'), file, dir)
  const script: LuaScript = {
    name: match[1]!,
    numberOfKeys: Number(match[2]),
    source,
    sha: createHash('sha1').update(source).digest('hex'),
  }
  cache.set(file, script)
  return script
}

function expandIncludes(source: string, file: string, dir: URL): string {
  return source.replace(/^--- @include "([\w-]+)"$/gm, (_line, name: string) => {
    try {
      return readFileSync(new URL(`includes/${name}.lua`, dir), 'utf8').trimEnd()
    } catch (error) {
      throw new Error(`lua script ${file}: cannot include ${JSON.stringify(name)} (${(error as Error).message})`, { cause: error })
    }
  })
}
