// The text filter's escaping: any user string, once escaped, is matched literally and never as a pattern.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { escapeLike, escapeRegex } from '../../src/store/query.ts'

/** What SQLite's LIKE with ESCAPE '\' does, for checking escapeLike without a database. */
function likeToRegex(pattern: string): RegExp {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\') out += escapeRegex(pattern[++i] ?? '')
    else if (c === '%') out += '[\\s\\S]*'
    else if (c === '_') out += '[\\s\\S]'
    else out += escapeRegex(c)
  }
  return new RegExp(`^${out}$`, 'u')
}

void test('escapeRegex: every string compiles and matches exactly itself', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-composite' }), fc.string(), fc.string(), (needle, before, after) => {
      const re = new RegExp(escapeRegex(needle), 'u')
      assert.ok(re.test(before + needle + after))
      assert.equal(new RegExp(`^${escapeRegex(needle)}$`, 'u').test(needle), true)
    }),
  )
  assert.equal(new RegExp(escapeRegex('.*[(')).test('abc'), false)
  assert.equal(new RegExp(escapeRegex('a.c')).test('abc'), false)
})

void test('escapeLike: wildcards and the escape character match only themselves', () => {
  fc.assert(
    fc.property(fc.string(), (needle) => {
      assert.ok(likeToRegex(`%${escapeLike(needle)}%`).test(`x${needle}y`))
      assert.ok(likeToRegex(escapeLike(needle)).test(needle))
    }),
  )
  assert.equal(likeToRegex(escapeLike('a%')).test('abc'), false)
  assert.equal(likeToRegex(escapeLike('a_c')).test('abc'), false)
  assert.equal(escapeLike('100%_\\'), '100\\%\\_\\\\')
})
