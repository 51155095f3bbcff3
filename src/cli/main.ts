// `skalds`: the command's definition (commander). Only the parser and the error/exit-code module load here; each
// command's implementation is imported when its action runs, so `skalds --help` answers without loading Fastify,
// the engines' drivers or zod (docs/cli.md).
import type { CliOptions } from './config.ts'
import { Command, CommanderError, Option } from 'commander'
import { readFileSync } from 'node:fs'
import { ExitCode, exitCodeOfError, reportError, wantsStack } from './errors.ts'

const LIFECYCLE = ['Created', 'Assigning', 'Running', 'Paused', 'Finished', 'Failed', 'Cancelled']
const EXIT_CODES = `
Exit codes:
  0  ok
  1  failed, or the server said no (its error message and code are printed)
  2  bad usage or input: unknown flag, bad JSON, bad .env / YAML / config value, worker module that does not load
  3  a server could not be reached
  \`skalds run\` exits with its task's code once the task ran (0 Finished, 1 Failed, 3 Cancelled, 4 Paused, …).`

/** The package's version: package.json sits two folders up from both src/cli and dist/cli. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** A lazily imported action: the module is loaded only when the command runs. */
type Lazy = (opts: CliOptions, args: string[], command: Command) => Promise<void>

function lazy(load: () => Promise<Lazy>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command
    const positional = args.slice(0, -2).map(String)
    const run = await load()
    await run(command.optsWithGlobals(), positional, command)
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** --url and --token of every command that talks to a controller. */
function clientOptions(command: Command, data = true): Command {
  command
    .addOption(new Option('--url <url>', 'the controller\'s base URL').env('SKALDS_CONTROLLER_URL'))
    .addOption(new Option('--token <token>', 'API bearer token').env('SKALDS_API_TOKEN'))
    .option('--timeout <ms>', 'give up on a request after this many milliseconds', '15000')
  if (data) command.option('--json', 'print the result as JSON (for scripts)')
  return command
}

/** --worker, --id and friends of the commands that start a Skald. */
function skaldOptions(command: Command): Command {
  return command
    .requiredOption('-w, --worker <module[#Export]>', 'a module exporting defineWorker definitions (every one, or the named export); repeatable', collect)
    .option('--id <id>', 'this Skald\'s id (SKALD_ID)')
    .option('--max-tasks <n>', 'tasks at once on this Skald')
    .option('--drain-timeout <ms>', 'on SIGTERM / Ctrl-C, how long running tasks may finish before they are stopped', '10000')
}

export function buildProgram(): Command {
  const program = new Command('skalds')
    .description('Skalds for TypeScript: distributed task scheduling and execution (docs/cli.md)')
    .version(packageVersion(), '-V, --version')
    .option('-v, --verbose', 'print stack traces of errors (also DEBUG=1)')
    .option('--env-file <file>', 'the .env file read under the environment', '.env')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', EXIT_CODES)

  program
    .command('controller')
    .description('run a System Controller (API, monitors, dispatcher) from the configuration')
    .option('--host <host>', 'listen address (SYSTEM_CONTROLLER_HOST)')
    .option('--port <port>', 'listen port (SYSTEM_CONTROLLER_PORT)')
    .option('--token <token>', 'API bearer token, at least 16 characters (SKALDS_API_TOKEN)')
    .action(lazy(async () => (await import('./serve.ts')).controllerCommand))

  skaldOptions(program.command('node').description('run a node-mode Skald: takes tasks the controller assigns')).action(
    lazy(async () => (await import('./serve.ts')).nodeCommand),
  )
  skaldOptions(program.command('edge').description('run an edge Skald: runs the tasks of a TaskWorkers YAML file, following its changes'))
    .requiredOption('--yaml <file>', 'the TaskWorkers file (YAML_FILE)')
    .action(lazy(async () => (await import('./serve.ts')).edgeCommand))
  skaldOptions(program.command('run').description('run the one task of a TaskWorkers YAML file in this process (single_process); exits with its code'))
    .requiredOption('--yaml <file>', 'the TaskWorkers file (YAML_FILE)')
    .action(lazy(async () => (await import('./serve.ts')).runCommand))

  const task = program.command('task').description('create, inspect and steer tasks through a controller\'s API')
  clientOptions(task.command('create').description('create a task'))
    .requiredOption('-c, --class <className>', 'the worker class')
    .option('--id <id>', 'the task id (default: the controller makes one)')
    .option('--name <name>', 'a display name')
    .option('--description <text>', 'a description')
    .option('-a, --attachments <json>', 'the worker\'s parameters, a JSON object')
    .option('--attachments-file <file>', 'the attachments from a JSON file (- for stdin)')
    .option('-p, --priority <n>', 'priority 0-10 (higher first)')
    .option('--depends-on <id>', 'a task that must finish first; repeatable', collect)
    .addOption(new Option('--mode <mode>', 'Skalds task mode').choices(['Passive', 'Active']))
    .option('--max-retries <n>', 'retries after the first run')
    .option('--deadline <time>', 'abort after this time: ISO date, epoch ms, or a delay like 30s, 10m, 2h')
    .option('--no-persistent', 'not persistent (isPersistent: false)')
    .action(lazy(async () => (await import('./task-commands.ts')).createTask))
  clientOptions(task.command('list').description('list tasks (one page)'))
    .addOption(new Option('-s, --status <status>', 'only this lifecycle status').choices(LIFECYCLE))
    .option('-c, --class <className>', 'only this class')
    .option('--executor <skaldId>', 'only tasks of this Skald')
    .addOption(new Option('--mode <mode>', 'only this mode').choices(['Passive', 'Active']))
    .option('--search <text>', 'id or name contains this text')
    .option('--page <n>', 'page number', '1')
    .option('--page-size <n>', 'tasks per page (1-100)', '20')
    .addOption(new Option('--sort <field>', 'sort by').choices(['createDateTime', 'updateDateTime', 'priority', 'id', 'className', 'lifecycleStatus', 'deadlineDateTime']).default('createDateTime'))
    .addOption(new Option('--order <order>', 'sort order').choices(['asc', 'desc']).default('desc'))
    .action(lazy(async () => (await import('./task-commands.ts')).listTasks))
  clientOptions(task.command('get').description('show one task').argument('<id>')).action(lazy(async () => (await import('./task-commands.ts')).getTask))
  clientOptions(task.command('update').description('change a task\'s attachments (a running worker takes them live)').argument('<id>'))
    .option('-a, --attachments <json>', 'the new attachments, a JSON object')
    .option('--attachments-file <file>', 'the new attachments from a JSON file (- for stdin)')
    .action(lazy(async () => (await import('./task-commands.ts')).updateTask))
  for (const [name, description] of [
    ['pause', 'pause a task (it checkpoints and stops, or is frozen in place)'],
    ['resume', 'resume a paused task'],
    ['cancel', 'cancel a task'],
    ['retry', 'run a Failed or Cancelled task again'],
  ] as const) {
    clientOptions(task.command(name).description(description).argument('<id>')).action(lazy(async () => (await import('./task-commands.ts')).commandFor(name)))
  }
  clientOptions(task.command('logs').description('print a task\'s log; --follow streams it until the task ends').argument('<id>'))
    .option('-f, --follow', 'keep streaming new lines (Server-Sent Events) until the task ends')
    .option('-n, --lines <n>', 'how many of the newest lines to print first (1-1000)', '200')
    .action(lazy(async () => (await import('./task-logs.ts')).taskLogs))

  const cache = program.command('cache').description('the controller\'s task caches')
  clientOptions(cache.command('stats').description('keys, memory and hit rate of the task caches')).action(lazy(async () => (await import('./cache-commands.ts')).cacheStats))
  clientOptions(cache.command('clear').description('drop cached entries (all, or one task\'s or one Skald\'s)'))
    .option('--task <id>', 'only this task\'s entries')
    .option('--skald <id>', 'only this Skald\'s task list')
    .action(lazy(async () => (await import('./cache-commands.ts')).cacheClear))

  program
    .command('doctor')
    .description('check every configured server: reachable, version, features, with a fix hint')
    .addOption(new Option('--url <url>', 'also check this controller').env('SKALDS_CONTROLLER_URL'))
    .addOption(new Option('--token <token>', 'API bearer token').env('SKALDS_API_TOKEN'))
    .option('--timeout <ms>', 'per-server time limit', '3000')
    .option('--json', 'print the report as JSON')
    .action(lazy(async () => (await import('./doctor.ts')).doctor))

  program
    .command('demo')
    .description('the controller, two node Skalds and example workers in one process, on the embedded engines (or the configured servers); prints the dashboard URL')
    .option('--port <port>', 'the dashboard and API port (0 = any free port)', '8000')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--data-dir <dir>', 'where the embedded SQLite store lives (a second run finds its tasks there)', '.skalds')
    .option('--no-seed', 'do not create the example tasks')
    .option('--drain-timeout <ms>', 'on Ctrl-C, how long running tasks may finish before they are handed back', '2000')
    .action(lazy(async () => (await import('./demo.ts')).demoCommand))

  return program
}

/** Parses argv, runs the command, and sets the exit code; never lets a stack trace out unless asked. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and --version end through here too (exitOverride); commander printed the message already
      process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage
      return
    }
    reportError(error, wantsStack(argv))
    process.exitCode = exitCodeOfError(error)
  }
}
