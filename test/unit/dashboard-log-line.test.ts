// The dashboard's log tail shows workers' pino lines readably and everything else as it came.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { readableLogLine } from '../../dashboard/src/log-line.ts'

void it('shows a pino line as time, level, message and its own fields; the task id, class and bookkeeping left out', () => {
  const time = Date.UTC(2026, 11, 1, 6, 1, 39)
  const line = `[logger] ${JSON.stringify({ level: 40, time, pid: 7, hostname: 'vm', taskId: 't-1', className: 'StreamAnalysis', msg: 'frame dropped', frame: 12, cause: { code: 'E' } })}`
  const shown = readableLogLine(line)
  assert.ok(shown.startsWith(new Date(time).toLocaleTimeString([], { hour12: false })), shown)
  assert.ok(shown.endsWith('  warn   frame dropped  frame=12  cause={"code":"E"}'), shown)
  assert.doesNotMatch(shown, /t-1|StreamAnalysis|hostname|pid/)
})

void it('leaves stdout, stderr and lines that are not pino JSON as they came', () => {
  for (const line of ['[stdout] hello', '[stderr] Error: boom', '[logger] {not json}', '[logger] {"no":"msg"}', 'plain']) assert.equal(readableLogLine(line), line)
})
