// Sentinel: a throwaway master and a sentinel watching it, both from REDIS_SERVER_BIN; the connection finds the
// master through the sentinel and works like a single-server one.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RedisConnection } from '../../src/redis/connection.ts'
import { RedisUnavailableError } from '../../src/redis/errors.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { onFreePort } from '../helpers/ports.ts'
import { RedisProcess, redisServerBin, rawCommand, spawnRedisServer } from '../helpers/redis-process.ts'
import { waitFor } from '../helpers/wait.ts'

void describe('RedisConnection through Sentinel', () => {
  let master: RedisProcess
  let sentinel: ChildProcess
  let sentinelPort: number
  let dir: string

  before(async () => {
    master = await RedisProcess.start()
    dir = mkdtempSync(join(tmpdir(), 'skalds-sentinel-'))
    const conf = join(dir, 'sentinel.conf')
    sentinel = await onFreePort((port) => {
      sentinelPort = port
      // Sentinel rewrites its config file, so it must be a writable file of its own.
      writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor skalds 127.0.0.1 ${master.port} 1`, ''].join('\n'))
      return spawnRedisServer(redisServerBin(), [conf, '--sentinel'], port, /\+monitor master skalds/)
    })
    const ready = async (): Promise<boolean> => (await rawCommand(sentinelPort, 'SENTINEL get-master-addr-by-name skalds')).startsWith('*2')
    await waitFor(ready, 'sentinel to know its master', 10_000, 50)
  })

  after(async () => {
    const exited = once(sentinel, 'exit')
    sentinel.kill('SIGKILL')
    await exited
    await master.kill()
    rmSync(dir, { recursive: true, force: true })
  })

  void it('finds the master through the sentinel, probes it, and runs commands there', async () => {
    const connection = await RedisConnection.connect({
      sentinel: { name: 'skalds', sentinels: [`127.0.0.1:${sentinelPort}`] },
      keyPrefix: 'sentinel-test:',
      logger: silentLogger,
    })
    try {
      assert.equal(connection.features?.major, 8)
      assert.equal(connection.isCluster, false)
      await connection.send(['SET', connection.key('k'), 'v'])
      assert.equal(await connection.send(['GET', connection.key('k')]), 'v')
      // The value landed on the master the sentinel names.
      assert.match(await rawCommand(master.port, `GET ${connection.key('k')}`), /^\$1/)
    } finally {
      await connection.close()
    }
  })

  void it('an unknown master name fails with a clear error instead of hanging', async () => {
    const started = Date.now()
    await assert.rejects(
      RedisConnection.connect({
        sentinel: { name: 'no-such-master', sentinels: [`127.0.0.1:${sentinelPort}`] },
        connectTimeoutMs: 1500,
        logger: silentLogger,
      }),
      (error: unknown) => error instanceof RedisUnavailableError && /sentinel master no-such-master/.test(error.message),
    )
    assert.ok(Date.now() - started < 10_000, 'bounded by the connect timeout')
  })
})
