// The YAML TaskWorkers file (wire §7.2): entries, defaults, and errors naming file, line and field.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigFileError } from '../../src/config/errors.ts'
import { parseTaskWorkersYaml, readTaskWorkersFile, TaskWorkersFileError } from '../../src/config/taskworkers-yaml.ts'

const dir = mkdtempSync(join(tmpdir(), 'skalds-yaml-'))
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function rejects(text: string, line: number, field: string, reason: RegExp): void {
  const path = file('workers.yml', text)
  assert.throws(
    () => readTaskWorkersFile(path),
    (e: unknown) => {
      assert.ok(e instanceof TaskWorkersFileError && e instanceof ConfigFileError, String(e))
      assert.equal(e.code, 'E_CONFIG_FILE')
      assert.equal(e.file, path)
      assert.equal(e.line, line, e.message)
      assert.equal(e.field, field, e.message)
      assert.match(e.reason, reason)
      assert.ok(e.message.startsWith(`${path}:${line}: ${field ? `${field}: ` : ''}`), e.message)
      return true
    },
  )
}

void test('taskworkers yaml: entries in file order with line numbers, attachments as written, defaults filled, file left untouched', () => {
  const text = [
    '# cameras', // 1
    'TaskWorkers:', // 2
    '  cam-1:', // 3
    '    className: MyWorker', // 4
    '    attachments:', // 5
    '      rtspUrl: rtsp://10.0.0.1/stream # comment kept', // 6
    '      fixFrame: 10', // 7
    '      nested: { a: [1, 2] }', // 8
    '  007:', // 9
    '    className: Other', // 10
    '    isPersistent: false', // 11
    '  "quoted id":', // 12
    '    className: Other', // 13
    '    attachments:', // 14
    '',
  ].join('\n')
  const path = file('ok.yml', text)
  const before = statSync(path).mtimeMs
  const entries = readTaskWorkersFile(path)
  assert.deepEqual(entries, [
    { taskId: 'cam-1', className: 'MyWorker', attachments: { rtspUrl: 'rtsp://10.0.0.1/stream', fixFrame: 10, nested: { a: [1, 2] } }, isPersistent: true, line: 3 },
    { taskId: '007', className: 'Other', attachments: {}, isPersistent: false, line: 9 },
    { taskId: 'quoted id', className: 'Other', attachments: {}, isPersistent: true, line: 12 },
  ])
  assert.equal(readFileSync(path, 'utf8'), text)
  assert.equal(statSync(path).mtimeMs, before)
})

void test('taskworkers yaml: an empty TaskWorkers mapping is no entries; anchors and aliases resolve', () => {
  assert.deepEqual(parseTaskWorkersYaml('TaskWorkers:\n', 'w.yml'), [])
  assert.deepEqual(parseTaskWorkersYaml('TaskWorkers: {}\n', 'w.yml'), [])
  const entries = parseTaskWorkersYaml('base: &base { fps: 5 }\nTaskWorkers:\n  a:\n    className: W\n    attachments: *base\n', 'w.yml')
  assert.deepEqual(entries[0]?.attachments, { fps: 5 })
})

void test('taskworkers yaml: unknown entry fields are ignored as Skalds does, with a warning naming line and field', () => {
  const warnings: string[] = []
  const entries = parseTaskWorkersYaml('TaskWorkers:\n  a:\n    className: W\n    isPersitent: false\n', 'w.yml', { onWarning: (m) => warnings.push(m) })
  assert.equal(entries[0]?.isPersistent, true)
  assert.deepEqual(warnings, ['w.yml:4: TaskWorkers.a.isPersitent: unknown field, ignored (known: className, attachments, isPersistent)'])
})

void test('taskworkers yaml: syntax errors name the line', () => {
  rejects('TaskWorkers:\n  cam-1:\n    className: [W\n', 4, '', /invalid YAML/)
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n   bad: indent\n', 4, '', /invalid YAML/)
  rejects('TaskWorkers:\n  a:\n    className: W\n---\nTaskWorkers: {}\n', 4, '', /invalid YAML/)
})

void test('taskworkers yaml: TaskWorkers missing or not a mapping', () => {
  rejects('', 1, 'TaskWorkers', /required/)
  rejects('# only a comment\n', 1, 'TaskWorkers', /required/)
  rejects('Workers:\n  a:\n    className: W\n', 1, 'TaskWorkers', /required/)
  rejects('- a\n- b\n', 1, '(root)', /must be a mapping/)
  rejects('other: 1\nTaskWorkers:\n  - a\n', 3, 'TaskWorkers', /must be a mapping/)
  rejects('TaskWorkers: cam-1\n', 1, 'TaskWorkers', /must be a mapping/)
})

void test('taskworkers yaml: an entry that is not a mapping, a missing or non-string className', () => {
  rejects('TaskWorkers:\n  cam-1:\n', 2, 'TaskWorkers.cam-1', /must be a mapping/)
  rejects('TaskWorkers:\n  cam-1: MyWorker\n', 2, 'TaskWorkers.cam-1', /must be a mapping/)
  rejects('TaskWorkers:\n  a:\n    className: W\n\n\n\n  cam-1:\n    attachments: {}\n', 7, 'TaskWorkers.cam-1.className', /^required$/)
  rejects('TaskWorkers:\n  cam-1:\n    className: 42\n', 3, 'TaskWorkers.cam-1.className', /must be a string/)
  rejects('TaskWorkers:\n  cam-1:\n    className:\n', 3, 'TaskWorkers.cam-1.className', /must be a string/)
  rejects('TaskWorkers:\n  cam-1:\n    className: ""\n', 3, 'TaskWorkers.cam-1.className', /must not be empty/)
  rejects('TaskWorkers:\n  cam-1:\n    className: [A]\n', 3, 'TaskWorkers.cam-1.className', /must be a string/)
})

void test('taskworkers yaml: attachments not a mapping, isPersistent not a boolean (YAML 1.2: yes is a string)', () => {
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n    attachments: [1, 2]\n', 4, 'TaskWorkers.cam-1.attachments', /must be a mapping/)
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n    attachments: text\n', 4, 'TaskWorkers.cam-1.attachments', /must be a mapping/)
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n    isPersistent: yes\n', 4, 'TaskWorkers.cam-1.isPersistent', /must be a boolean/)
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n    isPersistent: "true"\n', 4, 'TaskWorkers.cam-1.isPersistent', /must be a boolean/)
})

void test('taskworkers yaml: duplicate task ids and duplicate keys name the second definition and the first', () => {
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n  cam-2:\n    className: W\n  cam-1:\n    className: X\n', 6, 'TaskWorkers.cam-1', /duplicate task id \(first defined at line 2\)/)
  rejects('TaskWorkers:\n  cam-1:\n    className: W\n    className: X\n', 4, 'TaskWorkers.cam-1.className', /duplicate key \(first defined at line 3\)/)
  rejects('TaskWorkers:\n  a:\n    className: W\n    attachments:\n      fps: 1\n      fps: 2\n', 6, 'TaskWorkers.a.attachments.fps', /duplicate key/)
  rejects('TaskWorkers: {}\nTaskWorkers: {}\n', 2, 'TaskWorkers', /duplicate key/)
})

void test('taskworkers yaml: an unreadable file is a ConfigFileError naming the path', () => {
  const path = join(dir, 'missing.yml')
  assert.throws(() => readTaskWorkersFile(path), (e: unknown) => e instanceof TaskWorkersFileError && e.message.startsWith(`${path}: cannot read:`))
})
