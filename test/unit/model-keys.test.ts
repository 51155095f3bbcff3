// Redis key names, topic names and heartbeat codes, exactly as in the wire reference (§1.2, §2.2, §4.5).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  HeartbeatCode,
  SKALDS_HASH_KEY,
  SKALDS_MODE_HASH_KEY,
  SKALD_SUBSCRIPTIONS,
  TOPICS,
  TaskLifecycleStatus,
  Topic,
  WireTimings,
  skaldAllTaskKey,
  skaldAllowTaskClassNameKey,
  skaldHeartbeatKey,
  skaldKeysPattern,
  statusOfHeartbeat,
  taskExceptionKey,
  taskHasErrorKey,
  taskHeartbeatKey,
} from '../../src/model/index.ts'

void test('Redis key names', () => {
  assert.equal(SKALDS_HASH_KEY, 'skalds:hash')
  assert.equal(SKALDS_MODE_HASH_KEY, 'skalds:mode:hash')
  assert.equal(skaldHeartbeatKey('skalds-ab12c'), 'skalds:skalds-ab12c:heartbeat')
  assert.equal(skaldAllowTaskClassNameKey('n1'), 'skalds:n1:allow-task-class-name')
  assert.equal(skaldAllTaskKey('n1'), 'skalds:n1:all-task')
  assert.equal(skaldKeysPattern('n1'), 'skalds:n1:*')
  assert.equal(taskHeartbeatKey('t1'), 'task:t1:heartbeat')
  assert.equal(taskHasErrorKey('t1'), 'task:t1:has-error')
  assert.equal(taskExceptionKey('t1'), 'task:t1:exception')
})

void test('heartbeat codes and their statuses', () => {
  assert.deepEqual({ ...HeartbeatCode }, { Finished: 200, Failed: -1, Cancelled: -2 })
  assert.equal(statusOfHeartbeat(200), TaskLifecycleStatus.Finished)
  assert.equal(statusOfHeartbeat(-1), TaskLifecycleStatus.Failed)
  assert.equal(statusOfHeartbeat(-2), TaskLifecycleStatus.Cancelled)
  assert.equal(statusOfHeartbeat(0), undefined)
  assert.equal(statusOfHeartbeat(199), undefined)
})

void test('wire timings', () => {
  assert.equal(WireTimings.heartbeatPeriodMs, 3000)
  assert.equal(WireTimings.heartbeatTtlSeconds, 8)
  assert.equal(WireTimings.redisKeyTtlSeconds, 3600)
  assert.equal(WireTimings.skaldOnlineTimeoutMs, 10_000)
})

void test('topic names and per-mode subscriptions', () => {
  assert.deepEqual([...TOPICS], ['task.assign', 'task.cancel', 'task.update.attachment', 'taskworker.update', 'testing'])
  assert.deepEqual([...SKALD_SUBSCRIPTIONS.node], [Topic.TaskAssign, Topic.TaskCancel, Topic.TaskUpdateAttachment, Topic.Testing])
  assert.ok(!(SKALD_SUBSCRIPTIONS.edge as readonly string[]).includes(Topic.TaskCancel))
})
