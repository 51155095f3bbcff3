// Host options: validated with zod, defaults filled, module references normalized.
import { z } from 'zod'
import { WorkerArgumentError } from './errors.ts'
import type { ResolvedHostOptions, WorkerHostOptions, WorkerRef } from './host.ts'
import { DEFAULT_CHECKPOINT_MAX_BYTES } from './json.ts'
import type { ModuleRef } from './protocol.ts'

/** Above this, an abort-ignoring worker could outlive grace + 100 ms. */
export const MAX_KILL_AFTER_MS = 90

const ms = z.number().int().nonnegative()
const optionsSchema = z.object({
  graceMs: ms.default(5000),
  killAfterMs: ms.max(MAX_KILL_AFTER_MS).default(30),
  aliveIntervalMs: ms.min(10).default(1000),
  progressIntervalMs: ms.default(100),
  checkpointMaxBytes: z.number().int().positive().default(DEFAULT_CHECKPOINT_MAX_BYTES),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  logTailLines: ms.default(200),
  stderrTailLines: ms.default(20),
  logLineMaxChars: ms.min(80).default(2000),
})

export function resolveHostOptions(options: WorkerHostOptions = {}): ResolvedHostOptions {
  const { cache, ...rest } = options
  const result = optionsSchema.safeParse(rest)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new WorkerArgumentError(`worker host options.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
  }
  return { ...result.data, cache: cache ? toModuleRef(cache, 'cache') : null }
}

/** A WorkerRef as the protocol carries it: the module as a string, the export named. */
export function toModuleRef(ref: WorkerRef, what = 'worker'): ModuleRef {
  const module = ref?.module instanceof URL ? ref.module.href : ref?.module
  if (typeof module !== 'string' || module === '') throw new WorkerArgumentError(`${what}.module: must be a path, file URL or package specifier`)
  const name = ref.export ?? 'default'
  if (typeof name !== 'string' || name === '') throw new WorkerArgumentError(`${what}.export: must be a non-empty string`)
  return { module, export: name }
}
