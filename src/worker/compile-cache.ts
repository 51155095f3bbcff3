// Node's module compile cache for the process host's children. A child that starts cold spends most of its start-up
// compiling the worker API, zod and pino, and, when it runs from the TypeScript sources, stripping their types; with
// the cache it reads both from disk (the cache checks each module's source, so an edited file is compiled again).
// The host turns it on through the child's environment (NODE_COMPILE_CACHE), so it covers the entry module too, and
// the child takes the variable out again before any worker code runs (see forgetHostCompileCache).
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Set beside NODE_COMPILE_CACHE when the host added it, so the child knows to take both out again. */
export const COMPILE_CACHE_MARK = 'SKALDS_WORKER_COMPILE_CACHE'

let cacheDir: string | null | undefined

/**
 * Node's own default directory (`<os tmpdir>/node-compile-cache`, as `module.enableCompileCache()` uses), created
 * here first: null when it cannot be. Created without `recursive`, because a recursive mkdir (Node's, for the
 * cache, included) spins forever on some paths that cannot be created, such as one under /proc.
 */
function compileCacheDir(): string | null {
  if (cacheDir !== undefined) return cacheDir
  const dir = join(tmpdir(), 'node-compile-cache')
  try {
    mkdirSync(dir)
    cacheDir = dir
  } catch (error) {
    cacheDir = (error as NodeJS.ErrnoException).code === 'EEXIST' ? dir : null
  }
  return cacheDir
}

/**
 * The children's environment: `env`, plus NODE_COMPILE_CACHE, unless `env` sets NODE_COMPILE_CACHE itself (then its
 * directory is used as it is) or NODE_DISABLE_COMPILE_CACHE (Node's switch to turn the cache off).
 */
export function withCompileCache(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.NODE_COMPILE_CACHE !== undefined || env.NODE_DISABLE_COMPILE_CACHE !== undefined) return env
  const dir = compileCacheDir()
  return dir === null ? env : { ...env, NODE_COMPILE_CACHE: dir, [COMPILE_CACHE_MARK]: '1' }
}

/**
 * In the child, before any worker module loads: removes what withCompileCache added, so the worker's `process.env`
 * (and whatever it spawns) is the environment the host was given. The cache stays on: Node read it at start-up.
 */
export function forgetHostCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  if (env[COMPILE_CACHE_MARK] === undefined) return
  delete env[COMPILE_CACHE_MARK]
  delete env.NODE_COMPILE_CACHE
}
