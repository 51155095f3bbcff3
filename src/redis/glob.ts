// Redis glob patterns (as SCAN MATCH / PSUBSCRIBE read them) for the in-process backends, and escaping of user input.

/** Escapes glob metacharacters (`* ? [ ] \`) so user input matches itself literally in a pattern. */
export function escapeGlob(input: string): string {
  return input.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)
}

/** Compiles a Redis glob (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`) into an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let source = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i]!)
    } else if (ch === '*') {
      source += '[\\s\\S]*'
    } else if (ch === '?') {
      source += '[\\s\\S]'
    } else if (ch === '[') {
      const close = pattern.indexOf(']', i + 2)
      if (close === -1) {
        source += '\\['
        continue
      }
      let body = pattern.slice(i + 1, close)
      const negate = body.startsWith('^')
      if (negate) body = body.slice(1)
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, (c) => `\\${c}`)}]`
      i = close
    } else {
      source += escapeRegExp(ch)
    }
  }
  return new RegExp(`${source}$`)
}

function escapeRegExp(ch: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(ch) ? `\\${ch}` : ch
}
