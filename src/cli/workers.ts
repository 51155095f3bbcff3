// `--worker <module>[#Export]`: the worker classes a Skald registers. The module is imported once here to find its
// defineWorker exports and their class names; each task then loads it again in its own host (child process by
// default) by module + export, as runSkald's `workers` option expects.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { WorkerClass } from '../skald/local-task.ts'
import { isWorkerDefinition } from '../worker/definition.ts'
import { usageError } from './errors.ts'

/** Splits `module#Export`; the module is a path (relative to the working directory), a file: URL or a package. */
export function parseWorkerSpec(spec: string): { module: string; exportName: string | undefined } {
  const hash = spec.lastIndexOf('#')
  const module = hash > 0 ? spec.slice(0, hash) : spec
  const exportName = hash > 0 ? spec.slice(hash + 1) : undefined
  if (module === '' || exportName === '') throw usageError(`--worker ${JSON.stringify(spec)}: expected <module>[#Export]`)
  return { module, exportName }
}

/** An absolute path for a file, the URL for a file: URL, a package resolved from the working directory. */
function resolveModule(module: string, spec: string): string {
  if (module.startsWith('file:')) return module
  const path = isAbsolute(module) ? module : resolve(module)
  if (existsSync(path)) return path
  if (module.startsWith('.') || isAbsolute(module) || /\.[cm]?[jt]s$/.test(module)) throw usageError(`--worker ${spec}: no such file: ${path}`)
  try {
    return createRequire(pathToFileURL(resolve('package.json'))).resolve(module)
  } catch {
    throw usageError(`--worker ${spec}: cannot find module ${JSON.stringify(module)} (not a file, nor a package installed here)`)
  }
}

/** className → WorkerClass for every `--worker` given. @throws CliError (exit 2) naming the spec */
export async function loadWorkerClasses(specs: readonly string[]): Promise<Record<string, WorkerClass>> {
  const classes: Record<string, WorkerClass> = {}
  const from: Record<string, string> = {}
  for (const spec of specs) {
    const { module, exportName } = parseWorkerSpec(spec)
    const resolved = resolveModule(module, spec)
    let exports: Record<string, unknown>
    try {
      exports = (await import(resolved.startsWith('file:') ? resolved : pathToFileURL(resolved).href)) as Record<string, unknown>
    } catch (error) {
      throw usageError(`--worker ${spec}: cannot import ${resolved}: ${(error as Error)?.message ?? String(error)}`)
    }
    const names = exportName ? [exportName] : Object.keys(exports).filter((name) => isWorkerDefinition(exports[name]))
    if (names.length === 0) throw usageError(`--worker ${spec}: the module exports no worker made by defineWorker`)
    for (const name of names) {
      const definition = exports[name]
      if (!isWorkerDefinition(definition)) {
        const found = Object.keys(exports).filter((n) => isWorkerDefinition(exports[n]))
        throw usageError(`--worker ${spec}: export ${JSON.stringify(name)} is not a worker made by defineWorker${found.length ? ` (workers there: ${found.join(', ')})` : ''}`)
      }
      const className = definition.className
      if (classes[className]) throw usageError(`--worker ${spec}: class ${JSON.stringify(className)} is already given by ${from[className]}`)
      classes[className] = { worker: { module: resolved, export: name }, isolation: definition.isolation }
      from[className] = `${module}#${name}`
    }
  }
  return classes
}
