// Removes a test's keys from a shared server (SCAN + UNLINK on every master), so runs do not pile up keys.
import type { RedisConnection } from '../../src/redis/connection.ts'
import { escapeGlob } from '../../src/redis/glob.ts'

export async function deleteKeysWithPrefix(connection: RedisConnection, prefix: string): Promise<void> {
  for await (const batch of connection.scan(`${escapeGlob(prefix)}*`)) {
    // One key per call: on a cluster the keys of one batch may live in different slots.
    await Promise.all(batch.map((key) => connection.send(['UNLINK', key], { key })))
  }
}
