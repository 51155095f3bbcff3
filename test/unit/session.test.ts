// The session contract on the in-process store, and the cookie helpers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemorySessionStore } from '../../src/coordination/session/index.ts'
import { readCookie, serializeCookie } from '../../src/coordination/session/cookie.ts'
import { sessionContract } from '../contracts/session-contract.ts'

sessionContract('memory', () => {
  const stores: MemorySessionStore<Record<string, unknown>>[] = []
  return Promise.resolve({
    store: (ttlMs: number) => {
      const store = new MemorySessionStore<Record<string, unknown>>({ ttl: ttlMs, sweepIntervalMs: 100 })
      stores.push(store)
      return store
    },
    cleanup: async () => {
      for (const store of stores) await store.close()
    },
  })
})

void test('cookie parsing and serialization', () => {
  assert.equal(readCookie('a=1; sid=abc%20d; b=2', 'sid'), 'abc d')
  assert.equal(readCookie('sid="quoted"', 'sid'), 'quoted')
  assert.equal(readCookie('xsid=1', 'sid'), undefined)
  assert.equal(readCookie('sid=%E0%A4%A', 'sid'), undefined)
  assert.equal(readCookie(undefined, 'sid'), undefined)
  assert.equal(serializeCookie('sid', 'v', { path: '/', secure: false, sameSite: 'Strict', domain: 'example.com', maxAge: 10 }), 'sid=v; Path=/; HttpOnly; SameSite=Strict; Domain=example.com; Max-Age=10')
})
