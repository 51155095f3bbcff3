// Log files (src/config/log-files.ts): a process's lines in <dir>/<name>.<n>.log as well as stdout, rolled at the
// size, the retention sweep, and a clear error naming LOG_PATH when the directory cannot be written.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/env.ts'
import { InvalidConfigError } from '../../src/config/errors.ts'
import { LogRetention, logFileName, openConfiguredLog, openLogFile, openProcessLog } from '../../src/config/log-files.ts'
import { silentLogger } from '../../src/config/logger.ts'

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'skalds-logs-'))
const lines = (path: string): Array<Record<string, unknown>> =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)

void test('log files: the process logger writes its JSON lines to <dir>/<name>.1.log, the directory created', async () => {
  const dir = join(tempDir(), 'nested', 'logs')
  const log = await openProcessLog('skalds:test', 'info', 'node-1', { dir, rotationMb: 10, retentionMs: 86_400_000 })
  try {
    assert.equal(log.file, join(dir, 'node-1.1.log'))
    log.logger.info({ taskId: 't-1' }, 'hello')
    log.logger.debug('below the level')
  } finally {
    await log.close()
  }
  const written = lines(join(dir, 'node-1.1.log'))
  assert.equal(written.length, 1)
  assert.equal(written[0]!.msg, 'hello')
  assert.equal(written[0]!.taskId, 't-1')
  assert.equal(written[0]!.name, 'skalds:test')
  rmSync(dir, { recursive: true, force: true })
})

void test('log files: a file is rolled to the next number at the size; a restart continues after the highest', async () => {
  const dir = tempDir()
  const settings = { dir, rotationMb: 1 / 1024 } // 1 KiB
  const first = await openLogFile(settings, 'roller')
  for (let i = 0; i < 40; i++) first.write(`${JSON.stringify({ i, pad: 'x'.repeat(60) })}\n`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  await first.close()
  const files = readdirSync(dir).sort()
  assert.ok(files.length >= 2, `rolled: ${files.join(', ')}`)
  assert.ok(files.every((f) => /^roller\.\d+\.log$/.test(f)), files.join(', '))
  const again = await openLogFile(settings, 'roller')
  const highest = Math.max(...files.map((f) => Number(f.split('.')[1])))
  assert.equal(again.file, join(dir, `roller.${highest}.log`), 'continues the highest number (pino-roll)')
  await again.close()
  rmSync(dir, { recursive: true, force: true })
})

void test('log files: a file that fails after it opened (its directory replaced by a file) is reported once, never thrown', async () => {
  const dir = tempDir()
  const errors: Error[] = []
  const file = await openLogFile({ dir, rotationMb: 1 / 1024 }, 'doomed', (error) => errors.push(error))
  rmSync(dir, { recursive: true, force: true })
  writeFileSync(dir, 'a file where the directory was')
  // Each KiB rolls the file, and each roll tries to recreate the directory: several failures, one report.
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 20; i++) file.write(`${JSON.stringify({ round, i, pad: 'x'.repeat(60) })}\n`)
    await new Promise((resolve) => setTimeout(resolve, 60))
  }
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('; '))
  assert.match(errors[0]!.message, /EEXIST|ENOTDIR|ENOENT/)
  await file.close()
  rmSync(dir, { force: true })
})

void test('log files: retention removes .log files not written to for the retention, never one in use or another kind', async () => {
  const dir = tempDir()
  const now = Date.now()
  const old = (now - 4 * 86_400_000) / 1000
  for (const name of ['old.1.log', 'held.1.log', 'notes.txt']) {
    writeFileSync(join(dir, name), 'x\n')
    utimesSync(join(dir, name), old, old)
  }
  writeFileSync(join(dir, 'fresh.1.log'), 'x\n')
  const sweep = new LogRetention(dir, 3 * 86_400_000, () => [join(dir, 'held.1.log')], silentLogger)
  assert.deepEqual(await sweep.sweep(now), [join(dir, 'old.1.log')])
  assert.deepEqual(readdirSync(dir).sort(), ['fresh.1.log', 'held.1.log', 'notes.txt'])
  assert.deepEqual(await sweep.sweep(now + 3 * 86_400_000), [join(dir, 'fresh.1.log')], 'fresh ages out in turn')
  rmSync(dir, { recursive: true, force: true })
})

void test("log files: the process log's own sweep keeps its file and the files it is told it holds open", async () => {
  const dir = tempDir()
  const log = await openProcessLog('skalds:test', 'info', 'node-1', { dir, rotationMb: 10, retentionMs: 60_000 }, 40)
  try {
    const aged = (name: string): string => {
      const path = join(dir, name)
      writeFileSync(path, 'x\n')
      const old = (Date.now() - 3_600_000) / 1000
      utimesSync(path, old, old)
      return path
    }
    const held = aged('node-1_task-7.1.log')
    aged('gone.1.log')
    utimesSync(log.file!, (Date.now() - 3_600_000) / 1000, (Date.now() - 3_600_000) / 1000)
    log.holdOpen(() => [held])
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(readdirSync(dir).sort(), ['node-1.1.log', 'node-1_task-7.1.log'])
  } finally {
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test('log files: a name that is no file name is made one; a directory that cannot be written is a clear LOG_PATH error', async () => {
  assert.equal(logFileName('[SP]node:1/a b'), '_SP_node_1_a_b')
  assert.equal(logFileName(''), '_')
  const dir = tempDir()
  const blocker = join(dir, 'a-file')
  writeFileSync(blocker, '')
  const config = loadConfig({ env: { LOG_PATH: join(blocker, 'logs') }, dotenv: false })
  await assert.rejects(
    openConfiguredLog('skalds:test', 'node-1', config),
    (e: unknown) => e instanceof InvalidConfigError && e.variable === 'LOG_PATH' && /cannot write a log file in/.test(e.message),
  )
  const stdoutOnly = await openConfiguredLog('skalds:test', 'node-1', loadConfig({ env: {}, dotenv: false }))
  assert.equal(stdoutOnly.file, undefined, 'no LOG_PATH: stdout only')
  await stdoutOnly.close()
  rmSync(dir, { recursive: true, force: true })
})
