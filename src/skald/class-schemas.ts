// The attachments JSON Schema of each class a Skald registers, for `skalds:{id}:ts:classes`: each class's module is
// imported once in the node process to read its definition. Nothing here may fail a Skald: a class whose module
// cannot be loaded, or whose schema JSON Schema cannot state, is published as null (no check) and logged at debug.
import type { Logger } from '../config/logger.ts'
import type { JsonObject } from '../model/task-runtime.ts'
import { attachmentsJsonSchema } from '../worker/attachments-json-schema.ts'
import { toModuleRef } from '../worker/host-options.ts'
import { loadWorkerDefinition } from '../worker/module-loader.ts'
import type { WorkerClass } from './local-task.ts'

/** className → its attachments' input JSON Schema, or null. */
export async function loadClassSchemas(workers: Readonly<Record<string, WorkerClass>>, log: Logger): Promise<Record<string, JsonObject | null>> {
  const entries = await Promise.all(
    Object.entries(workers).map(async ([className, cls]): Promise<[string, JsonObject | null]> => {
      try {
        const definition = await loadWorkerDefinition(toModuleRef(cls.worker))
        const result = attachmentsJsonSchema(definition.attachments)
        if (result.ok) return [className, result.schema]
        log.debug({ className, reason: result.reason }, 'attachments schema not published: no JSON Schema for it')
      } catch (error) {
        log.debug({ className, err: error }, 'attachments schema not published: the class could not be loaded in the node process')
      }
      return [className, null]
    }),
  )
  return Object.fromEntries(entries)
}
