// The process host turns Node's module compile cache on for its children (a cold child starts in about half the
// time), through their environment, and the worker never sees the variable; NODE_COMPILE_CACHE or
// NODE_DISABLE_COMPILE_CACHE in the host's env win.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { COMPILE_CACHE_MARK, forgetHostCompileCache, withCompileCache } from '../../src/worker/compile-cache.ts'
import { ProcessHost } from '../../src/worker/hosts.ts'
import { assertStatus } from '../contracts/worker-host-contract.ts'
import { fixture, startWatched } from '../helpers/worker-run.ts'

const TEST = { timeout: 60_000 }
const DEFAULT_DIR = join(tmpdir(), 'node-compile-cache')

interface Probe {
  cacheDir: string | null
  envCache: string | null
  envDisable: string | null
  envMark: string | null
}

/** This process' env without the compile cache variables (the runner may have them). */
function plainEnv(): NodeJS.ProcessEnv {
  const { NODE_COMPILE_CACHE: _cache, NODE_DISABLE_COMPILE_CACHE: _disable, ...env } = process.env
  return env
}

/** Runs the probe worker in a cold child with `env` and returns what it saw. */
async function probe(env: NodeJS.ProcessEnv): Promise<Probe> {
  const host = new ProcessHost({ poolSize: 0, env })
  try {
    const w = startWatched(host, { worker: fixture('compile-cache-probe'), attachments: {} })
    assertStatus(await w.run.done, 'finished')
    const line = w.logged().find((l) => l.hook === 'main')
    assert.ok(line, 'the probe logged')
    return line as unknown as Probe
  } finally {
    await host.close()
  }
}

void describe('process host: Node compile cache', () => {
  void it('is on in the child, under the OS temp dir, and the worker does not see the variable', TEST, async () => {
    const seen = await probe(plainEnv())
    assert.ok(seen.cacheDir?.startsWith(`${DEFAULT_DIR}/`), `cache dir ${seen.cacheDir} under ${DEFAULT_DIR}`)
    assert.equal(seen.envCache, null)
    assert.equal(seen.envMark, null)
  })

  void it('NODE_DISABLE_COMPILE_CACHE in the host env turns it off', TEST, async () => {
    const seen = await probe({ ...plainEnv(), NODE_DISABLE_COMPILE_CACHE: '1' })
    assert.equal(seen.cacheDir, null)
    assert.equal(seen.envDisable, '1')
    assert.equal(seen.envCache, null)
  })

  void it("NODE_COMPILE_CACHE in the host env is used as it is, and stays in the worker's env", TEST, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skalds-compile-cache-'))
    try {
      const seen = await probe({ ...plainEnv(), NODE_COMPILE_CACHE: dir })
      assert.ok(seen.cacheDir?.startsWith(`${dir}/`), `cache dir ${seen.cacheDir} under ${dir}`)
      assert.equal(seen.envCache, dir)
      assert.equal(seen.envMark, null)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  void it('withCompileCache adds the variable and its mark to a copy; forgetHostCompileCache takes both out', () => {
    const given = { PATH: '/bin' }
    const env = withCompileCache(given)
    assert.deepEqual(given, { PATH: '/bin' })
    assert.deepEqual(env, { PATH: '/bin', NODE_COMPILE_CACHE: DEFAULT_DIR, [COMPILE_CACHE_MARK]: '1' })
    forgetHostCompileCache(env)
    assert.deepEqual(env, { PATH: '/bin' })
    const own = { NODE_COMPILE_CACHE: '/somewhere' }
    forgetHostCompileCache(own)
    assert.deepEqual(own, { NODE_COMPILE_CACHE: '/somewhere' }, 'a variable the host did not add stays')
  })
})
