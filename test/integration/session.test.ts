// The session contract on Redis 8, Redis 7.0 and the cluster, plus what only Redis can show: the stored keys hold
// the SHA-256 of the id, never the id, and the user index lives as long as its sessions.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RedisConnection } from '../../src/redis/connection.ts'
import { RedisSessionStore } from '../../src/coordination/session/index.ts'
import { hashSessionId } from '../../src/coordination/session/store.ts'
import { connectTarget } from '../helpers/redis-connect.ts'
import { redisTargets, uniquePrefix } from '../helpers/servers.ts'
import { sessionContract } from '../contracts/session-contract.ts'

async function dump(connection: RedisConnection): Promise<string> {
  let text = ''
  for await (const keys of connection.scan(`${connection.keyPrefix}*`)) {
    for (const key of keys) {
      const type = String(await connection.send(['TYPE', key], { key }))
      const value = type === 'hash' ? await connection.send(['HGETALL', key], { key }) : await connection.send(['ZRANGE', key, '0', '-1', 'WITHSCORES'], { key })
      text += `${key} ${JSON.stringify(value)}\n`
    }
  }
  return text
}

for (const target of redisTargets()) {
  sessionContract(target.name, async () => {
    const connection = await connectTarget(target, uniquePrefix(`session-${target.name}`))
    return {
      store: (ttlMs: number) => new RedisSessionStore<Record<string, unknown>>(connection, { ttl: ttlMs }),
      cleanup: () => connection.close(),
    }
  })

  void test(`session on ${target.name}: Redis holds the SHA-256 of session ids, never an id in clear`, async () => {
    const connection = await connectTarget(target, uniquePrefix(`session-clear-${target.name}`))
    try {
      const store = new RedisSessionStore(connection, { ttl: '1h' })
      const sessions = await Promise.all(['u1', 'u1', 'u2'].map((user) => store.create(user, { note: 'hello' })))
      const text = await dump(connection)
      for (const session of sessions) {
        assert.ok(!text.includes(session.id), 'the id does not appear in any key or value')
        assert.ok(text.includes(`sess:${hashSessionId(session.id)}`), 'the session key is named by the hash')
      }
      const indexKey = connection.key('sess:user:u1')
      const pttl = Number(await connection.send(['PTTL', indexKey], { key: indexKey }))
      assert.ok(pttl > 3_600_000, `the user index outlives its sessions (PTTL ${pttl} ms)`)
    } finally {
      await connection.close()
    }
  })
}
