// `.env` files: parsed by Node's own `util.parseEnv` (the same rules as `node --env-file`), plus where each
// variable was defined, so a bad value can be reported as `.env:7: REDIS_PORT: …`.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { ConfigFileError } from './errors.ts'

export interface DotenvFile {
  /** absolute path of the file */
  path: string
  /** the variables it defines */
  values: Record<string, string>
  /** 1-based line of each variable's (last) definition */
  lines: Record<string, number>
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=/

/**
 * Reads a `.env` file. A missing file is `undefined` (it is optional); an unreadable one, or a line that is neither
 * blank, a comment, an assignment nor the continuation of a quoted value, is a {@link ConfigFileError} naming the
 * file and the line.
 */
export function readDotenv(path: string): DotenvFile | undefined {
  const absolute = resolve(path)
  let text: string
  try {
    text = readFileSync(absolute, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigFileError(`${absolute}: cannot read: ${(error as Error).message}`, { cause: error })
  }
  const lines: Record<string, number> = {}
  let openQuote: string | undefined
  text.split(/\r?\n/).forEach((line, index) => {
    if (openQuote !== undefined) {
      if (line.includes(openQuote)) openQuote = undefined
      return
    }
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    const match = ASSIGNMENT.exec(line)
    if (!match) {
      throw new ConfigFileError(`${absolute}:${index + 1}: expected NAME=value, got ${JSON.stringify(trimmed.slice(0, 60))}`)
    }
    lines[match[1]!] = index + 1
    const rest = line.slice(match[0].length).trimStart()
    const quote = rest[0]
    if ((quote === '"' || quote === "'" || quote === '`') && rest.indexOf(quote, 1) === -1) openQuote = quote
  })
  return { path: absolute, values: parseEnv(text) as Record<string, string>, lines }
}
