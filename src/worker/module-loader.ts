// Loading what the host names by module + export: a worker definition, or the cache factory (only when first asked).
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type AnyWorkerDefinition, isWorkerDefinition } from './definition.ts'
import { CacheUnavailableError, WorkerLoadError } from './errors.ts'
import type { ModuleRef } from './protocol.ts'

/** An absolute path becomes a file URL; URLs and package specifiers are imported as they are. */
export function importSpecifier(module: string): string {
  return isAbsolute(module) ? pathToFileURL(module).href : module
}

/**
 * Modules imported, by the name given. `import()` of a module already loaded still resolves its specifier every time
 * (measured: ~35 µs, once per run of an inline worker); a failure is not kept, so a module fixed on disk loads later.
 */
const imported = new Map<string, Record<string, unknown>>()

async function importModule(module: string, what: string): Promise<Record<string, unknown>> {
  const known = imported.get(module)
  if (known) return known
  try {
    const mod = (await import(importSpecifier(module))) as Record<string, unknown>
    imported.set(module, mod)
    return mod
  } catch (error) {
    throw new WorkerLoadError(`${what}: cannot import ${module}: ${(error as Error)?.message ?? String(error)}`, { cause: error })
  }
}

/** @throws WorkerLoadError when the module cannot be imported or the export is not made by defineWorker */
export async function loadWorkerDefinition(ref: ModuleRef): Promise<AnyWorkerDefinition> {
  const mod = await importModule(ref.module, 'worker')
  const value = mod[ref.export]
  if (isWorkerDefinition(value)) return value
  const found = Object.keys(mod).filter((name) => isWorkerDefinition(mod[name]))
  const hint = found.length > 0 ? `; worker exports there: ${found.join(', ')}` : ''
  throw new WorkerLoadError(`worker: export ${JSON.stringify(ref.export)} of ${ref.module} is not a worker definition made by defineWorker${hint}`)
}

/** A factory called at most once, on the first call of the returned function; its failure is kept and rethrown. */
export function lazyOnce(factory: () => unknown): () => Promise<unknown> {
  let created: Promise<unknown> | undefined
  return () => (created ??= Promise.resolve().then(factory))
}

/** The cache for `ctx.cache()`: the module is imported, and its factory called, only on the first call. */
export function lazyCacheFromModule(ref: ModuleRef | null): () => Promise<unknown> {
  return lazyOnce(async () => {
    if (ref === null) throw new CacheUnavailableError('ctx.cache(): the host was given no cache factory (WorkerHost option `cache`)')
    const mod = await importModule(ref.module, 'cache factory').catch((error: unknown) => {
      throw new CacheUnavailableError((error as Error).message, { cause: error })
    })
    const factory = mod[ref.export]
    if (typeof factory !== 'function') throw new CacheUnavailableError(`cache factory: export ${JSON.stringify(ref.export)} of ${ref.module} is not a function`)
    try {
      return await (factory as () => unknown)()
    } catch (error) {
      throw new CacheUnavailableError(`cache factory failed: ${(error as Error)?.message ?? String(error)}`, { cause: error })
    }
  })
}

/** A module next to `base` (an import.meta.url) with the same extension: `.ts` from the sources, `.js` from dist. */
export function siblingModule(name: string, base: string): URL {
  const extension = new URL(base).pathname.endsWith('.ts') ? '.ts' : '.js'
  return new URL(`./${name}${extension}`, base)
}
