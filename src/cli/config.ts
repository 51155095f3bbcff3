// Configuration for the CLI: flags > environment > `.env`. Flags are laid over the environment under Skalds' own
// variable names, so loadConfig validates them with everything else; an error about a value a flag gave names the
// flag instead of the variable.
import { readDotenv } from '../config/dotenv.ts'
import { loadConfig, type SkaldsConfig } from '../config/env.ts'
import { InvalidConfigError } from '../config/errors.ts'
import { usageError } from './errors.ts'

/** variable name → [flag, value] of the flags that were given */
export type FlagOverrides = Record<string, readonly [flag: string, value: string | undefined]>

/** loadConfig over the environment with the given flags laid on top; `envFile` is the `.env` file (`--env-file`). */
export function loadCliConfig(envFile: string | undefined, overrides: FlagOverrides = {}): SkaldsConfig {
  const env: NodeJS.ProcessEnv = { ...process.env }
  const flagOf: Record<string, string> = {}
  for (const [variable, [flag, value]] of Object.entries(overrides)) {
    if (value === undefined) continue
    env[variable] = value
    flagOf[variable] = flag
  }
  try {
    return loadConfig({ env, dotenv: envFile ?? '.env' })
  } catch (error) {
    if (error instanceof InvalidConfigError && flagOf[error.variable] && error.source === 'environment') {
      throw usageError(`${flagOf[error.variable]}: ${error.reason}`)
    }
    throw error
  }
}

/** One setting of a command that talks to a controller: the flag or environment (commander has them), else `.env`. */
export function settingFromDotenv(envFile: string | undefined, name: string): string | undefined {
  const file = readDotenv(envFile ?? '.env')
  const value = file?.values[name]
  return value === '' ? undefined : value
}

/** A whole number from a flag, or a usage error naming the flag. */
export function intFlag(flag: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `between ${min} and ${max}`
    throw usageError(`${flag}: must be a whole number ${range} (got ${JSON.stringify(value)})`)
  }
  return n
}

/** A command's parsed flags, as commander gives them (`optsWithGlobals()`). */
export type CliOptions = Record<string, string | boolean | string[] | undefined>

/** A flag's value when it is a string (commander gives strings, booleans or, for repeatable flags, arrays). */
export function text(value: string | boolean | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}
