// The Lua loader: key count from the file name, includes expanded before the SHA is taken.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { luaLoader } from '../../src/redis/lua.ts'

const loadLua = luaLoader(new URL('../../src/cache/proxy/lua/', import.meta.url))

void describe('loadLua', () => {
  void test('expands `--- @include` lines and hashes the expanded source', () => {
    const script = loadLua('hdel-2.lua')
    assert.equal(script.name, 'hdel')
    assert.equal(script.numberOfKeys, 2)
    assert.doesNotMatch(script.source, /^--- @include/m)
    assert.match(script.source, /local function settle\(dropped\)/)
    assert.equal(script.sha, createHash('sha1').update(script.source).digest('hex'))
  })

  void test('a file not named <name>-<numberOfKeys>.lua is refused', () => {
    assert.throws(() => loadLua('hdel.lua'), /must be named <name>-<numberOfKeys>\.lua/)
  })
})
