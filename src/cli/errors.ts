// The CLI's exit codes and how an error becomes one line on stderr. Kept free of heavy imports: main.ts loads it
// for every command, `--help` included.

/** Exit codes scripts can rely on (docs/cli.md). `skalds run` returns its task's code instead once the task ran. */
export const ExitCode = {
  Ok: 0,
  /** the operation failed, or the server said no (an API error, a failed doctor check) */
  Failure: 1,
  /** bad usage or input: an unknown flag, bad JSON, a bad `.env`, YAML or config value, a worker module that does not load */
  Usage: 2,
  /** a server could not be reached (connection refused, timeout, unknown host) */
  Unreachable: 3,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error the CLI reports as one line and ends with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** Bad input given on the command line (a flag's value, a file it names). */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.Usage)
}

// Library error codes that mean the input or configuration is wrong (exit 2) or a server is not there (exit 3).
const USAGE_CODES = new Set(['E_INVALID_CONFIG', 'E_CONFIG_FILE', 'E_WORKER_LOAD', 'E_WORKER_DEFINITION', 'E_SKALD_OPTIONS', 'E_STORE_OPTIONS_INVALID', 'E_BUS_ARGUMENT', 'E_INVALID_ARGUMENT', 'E_API_OPTIONS'])
const UNREACHABLE_CODES = new Set(['E_REDIS_UNAVAILABLE', 'E_REDIS_TIMEOUT', 'E_STORE_UNAVAILABLE', 'E_BUS_PUBLISH', 'E_BUS_SUBSCRIBE'])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET'])

/** The exit code an error stands for. */
export function exitCodeOfError(error: unknown): number {
  if (error instanceof CliError) return error.exitCode
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') {
    if (USAGE_CODES.has(code) || code.startsWith('E_') && code.endsWith('_OPTIONS')) return ExitCode.Usage
    if (UNREACHABLE_CODES.has(code) || NETWORK_CODES.has(code)) return ExitCode.Unreachable
  }
  if (error instanceof Error && error.cause !== undefined && error.cause !== error) {
    const inner = exitCodeOfError(error.cause)
    if (inner !== ExitCode.Failure) return inner
  }
  return ExitCode.Failure
}

/** Whether stack traces are wanted: `--verbose`, or `DEBUG` set in the environment. */
export function wantsStack(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--verbose') || argv.includes('-v') || Boolean(process.env.DEBUG)
}

/** Prints `skalds: <message>` (the error's code in brackets when it has one), or the whole stack when asked. */
export function reportError(error: unknown, verbose = wantsStack()): void {
  if (verbose && error instanceof Error) {
    process.stderr.write(`${error.stack ?? error.message}\n`)
    if (error.cause) process.stderr.write(`cause: ${error.cause instanceof Error ? error.cause.stack : JSON.stringify(error.cause)}\n`)
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null)?.code
  const tag = typeof code === 'string' && !(error instanceof CliError) && !message.includes(code) ? ` [${code}]` : ''
  process.stderr.write(`skalds: ${message.split('\n')[0]}${tag}\n`)
}
