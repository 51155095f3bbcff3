// The controller's alerts against a real HTTP receiver (node:http on a free port, the global fetch): payload and
// headers, the signature, retries (500, timeout, Retry-After), what is not retried, the queue bound, the rate limit
// (coalesced batches), flush() and close(); emit() stays synchronous and cheap with a receiver that never answers.
import assert from 'node:assert/strict'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { test } from 'node:test'
import { pino } from 'pino'
import { InvalidConfigError } from '../../src/config/errors.ts'
import type { Logger } from '../../src/config/logger.ts'
import {
  AlertsOptionsError,
  createAlerts,
  parseAlertWebhooksEnv,
  parseRetryAfter,
  type AlertBatchPayload,
  type AlertInput,
  type Alerts,
  type AlertsOptions,
  type TaskFailedAlert,
} from '../../src/controller/alerts.ts'
import { capturingLogger, type LogLine } from '../helpers/capture-logger.ts'
import { onFreePort, PortInUseError } from '../helpers/ports.ts'
import { sleep, waitFor, within } from '../helpers/wait.ts'

/** A request body as the receiver parsed it. */
interface Body {
  kind: string
  id: string
  at: number
  taskId?: string
  count?: number
  [field: string]: unknown
}

interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  json: Body
  at: number
}

type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang'

interface Receiver {
  /** the webhook URL; its path and query hold a "secret" that must never reach a log line */
  url: string
  origin: string
  received: Received[]
  close(): Promise<void>
}

/** A real HTTP server that records each request and answers as `reply` says (200 by default). */
async function receiver(reply: (index: number, request: Received) => Reply | Promise<Reply> = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = []
  const hung = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const request: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) as Body, at: performance.now() }
      received.push(request)
      void Promise.resolve(reply(received.length - 1, request)).then((answer) => {
        if (answer === 'hang') {
          hung.add(res)
          return
        }
        res.writeHead(answer.status, answer.headers)
        res.end(answer.body ?? '')
      })
    })
  })
  const port = await onFreePort(
    (port) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, error.message) : error))
        server.listen(port, '127.0.0.1', () => resolve(port))
      }),
  )
  const origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}/hooks/T0001/s3cr3t-path?token=s3cr3t-query`,
    origin,
    received,
    close: () => {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Alerts on a receiver, closed (with the receiver) at the end of the test. */
async function setup(
  t: { after(fn: () => Promise<void>): void },
  reply: Parameters<typeof receiver>[0],
  options: Partial<AlertsOptions> & { webhook?: Record<string, unknown> } = {},
): Promise<{ alerts: Alerts; rx: Receiver; lines: LogLine[] }> {
  const rx = await receiver(reply)
  const lines: LogLine[] = []
  const { webhook, ...rest } = options
  const alerts = createAlerts({
    webhooks: [{ url: rx.url, ...webhook }],
    retry: { initialMs: 20, maxMs: 1000, ...rest.retry },
    logger: capturingLogger(lines),
    ...rest,
  })
  t.after(async () => {
    await alerts.close()
    await rx.close()
    assert.ok(!lines.some((line) => /s3cr3t/.test(line.msg)), 'no log line holds the webhook URL path or query')
  })
  return { alerts, rx, lines }
}

const failed = (taskId: string, attempt = 3): TaskFailedAlert & AlertInput => ({ kind: 'task.failed', taskId, className: 'MyWorker', executor: 'node-1', attempt, lastError: 'boom' })

void test('alerts: each kind is POSTed as JSON with its fields, a stable id, and a warn log line', async (t) => {
  const { alerts, rx, lines } = await setup(t, undefined, { source: 'controller-a' })
  const before = Date.now()
  alerts.emit({ ...failed('t-1'), epoch: 7 })
  alerts.emit({ kind: 'node.offline', skaldId: 'node-2', lastSeenAt: 1_700_000_000_000, taskIds: ['t-2', 't-3'] })
  alerts.emit({ kind: 'task.failover', taskId: 't-2', from: 'node-2', to: null, epoch: 4, at: 1_700_000_000_500 })
  await alerts.flush(5000)
  assert.equal(rx.received.length, 3)
  for (const request of rx.received) {
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/hooks/T0001/s3cr3t-path?token=s3cr3t-query')
    assert.equal(request.headers['content-type'], 'application/json')
    assert.match(request.headers['user-agent'] ?? '', /^skalds-alerts\/1 /)
    assert.equal(request.headers['x-skalds-alert-id'], request.json.id)
    assert.equal(request.headers['x-skalds-alert-kind'], request.json.kind)
    assert.equal(request.headers['x-skalds-signature'], undefined)
    assert.match(request.json.id, /^[0-9a-f]{32}$/)
  }
  const [a, b, c] = rx.received.map((r) => r.json) as [Body, Body, Body]
  const { id: _a, at: atA, ...fieldsA } = a
  assert.ok(atA >= before && atA <= Date.now())
  assert.deepEqual(fieldsA, { kind: 'task.failed', source: 'controller-a', taskId: 't-1', className: 'MyWorker', executor: 'node-1', attempt: 3, lastError: 'boom', epoch: 7 })
  const { id: _b, at: _atB, ...fieldsB } = b
  assert.deepEqual(fieldsB, { kind: 'node.offline', source: 'controller-a', skaldId: 'node-2', lastSeenAt: 1_700_000_000_000, taskIds: ['t-2', 't-3'] })
  assert.deepEqual(c, { kind: 'task.failover', id: c.id, at: 1_700_000_000_500, source: 'controller-a', taskId: 't-2', from: 'node-2', to: null, epoch: 4 })
  // the key order is part of the documented shape: kind, id, at, source, then the fields
  assert.deepEqual(Object.keys(a).slice(0, 4), ['kind', 'id', 'at', 'source'])

  // one warn line per alert, readable
  const warns = lines.filter((line) => line.level === 'warn').map((line) => line.msg)
  assert.equal(warns.length, 3)
  assert.match(warns[0]!, /^alert task\.failed: task t-1 \(MyWorker\) failed for good at attempt 3 on node-1: boom$/)
  assert.match(warns[1]!, /^alert node\.offline: Skald node-2 is offline \(last seen 2023-11-14T22:13:20\.000Z\), it held 2 task\(s\)$/)
  assert.match(warns[2]!, /^alert task\.failover: task t-2 taken from node-2 \(epoch 4\), handed back to be dispatched again$/)

  // the same event (again, later, or from another controller) has the same id; another event another one
  alerts.emit({ ...failed('t-1'), epoch: 7, at: Date.now() + 5000 })
  alerts.emit({ ...failed('t-1'), epoch: 8 })
  await alerts.flush(5000)
  assert.equal(rx.received[3]!.json.id, a.id)
  assert.notEqual(rx.received[4]!.json.id, a.id)
  assert.deepEqual(alerts.stats().webhooks[0], {
    name: rx.origin,
    pending: 0,
    delivered: 5,
    requests: 5,
    retries: 0,
    coalesced: 0,
    dropped: 0,
    rejected: 0,
    failed: 0,
    discarded: 0,
  })
  assert.deepEqual({ emitted: alerts.stats().emitted, invalid: alerts.stats().invalid }, { emitted: 5, invalid: 0 })
})

void test('alerts: without webhooks every alert is still a warn line; malformed alerts are refused, never thrown', async () => {
  const lines: LogLine[] = []
  const alerts = createAlerts({ logger: capturingLogger(lines) })
  alerts.emit(failed('t-1'))
  alerts.emit({ kind: 'task.exploded', taskId: 'x' } as unknown as AlertInput)
  alerts.emit({ kind: 'task.failover', taskId: '', from: 'n', to: null, epoch: 1 })
  alerts.emit({ kind: 'node.offline', skaldId: 'n', lastSeenAt: null, taskIds: 'a,b' } as unknown as AlertInput)
  alerts.emit(null as unknown as AlertInput)
  const throwing: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: () => assert.fail('logger broke'), child: () => throwing }
  const withThrowingLogger = createAlerts({ logger: throwing, webhooks: [{ url: 'https://a.example/' }], fetch: () => new Promise(() => {}) })
  assert.doesNotThrow(() => withThrowingLogger.emit(failed('t-2')))
  assert.equal(withThrowingLogger.stats().webhooks[0]!.pending, 1, 'queued all the same')
  await withThrowingLogger.close()
  assert.deepEqual(alerts.stats(), { emitted: 1, invalid: 4, webhooks: [] })
  assert.deepEqual(
    lines.map((line) => `${line.level} ${line.msg}`),
    [
      'warn alert task.failed: task t-1 (MyWorker) failed for good at attempt 3 on node-1: boom',
      'error alert dropped: kind: must be one of task.failed, node.offline, task.failover, got "task.exploded"',
      'error alert dropped: taskId: must be a non-empty string, got an empty string',
      'error alert dropped: taskIds: must be an array of task ids, got string',
      'error alert dropped: must be an object, got null',
    ],
  )
  await alerts.flush(100)
  await alerts.close()
})

void test('alerts: the x-skalds-signature header is the HMAC-SHA256 of the raw body, verified by the receiver', async (t) => {
  const secret = 'whsec_0123456789'
  const verify = (request: Received): boolean => {
    const given = String(request.headers['x-skalds-signature'] ?? '')
    const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`
    return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  }
  const { alerts, rx } = await setup(t, (_, request) => (verify(request) ? { status: 204 } : { status: 401, body: 'bad signature' }), {
    webhook: { secret, headers: { Authorization: 'Bearer abc', 'User-Agent': 'custom-agent/2' } },
  })
  alerts.emit(failed('t-1'))
  alerts.emit({ kind: 'node.offline', skaldId: 'node-ü', lastSeenAt: null, taskIds: ['é', '漢字'] })
  await alerts.flush(5000)
  assert.equal(rx.received.length, 2)
  assert.ok(rx.received.every(verify))
  assert.equal(rx.received[0]!.headers.authorization, 'Bearer abc')
  assert.equal(rx.received[0]!.headers['user-agent'], 'custom-agent/2')
  assert.equal(alerts.stats().webhooks[0]!.delivered, 2)
})

void test('alerts: a 500 is retried with backoff, then delivered with the same id and body', async (t) => {
  const { alerts, rx, lines } = await setup(t, (i) => (i < 2 ? { status: 500, body: 'oops' } : { status: 200 }), { retry: { initialMs: 50, factor: 2 } })
  alerts.emit(failed('t-1'))
  await alerts.flush(5000)
  assert.equal(rx.received.length, 3)
  assert.equal(new Set(rx.received.map((r) => r.body)).size, 1)
  const gaps = [rx.received[1]!.at - rx.received[0]!.at, rx.received[2]!.at - rx.received[1]!.at]
  t.diagnostic(`retry gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms (backoff 50, 100)`)
  assert.ok(gaps[0]! >= 45 && gaps[1]! >= 95, `gaps ${gaps.join(', ')}`)
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'delivered', 'requests', 'retries', 'failed'), { delivered: 1, requests: 3, retries: 2, failed: 0 })
  assert.equal(lines.filter((l) => /attempt \d of 8 failed \(HTTP 500\); retrying in/.test(l.msg)).length, 2)
})

void test('alerts: a receiver that keeps failing is given up after maxAttempts; connection refused is retried too', async (t) => {
  const { alerts, rx, lines } = await setup(t, () => ({ status: 502 }), { retry: { maxAttempts: 3, initialMs: 10 } })
  alerts.emit(failed('t-1'))
  await alerts.flush(5000)
  assert.equal(rx.received.length, 3)
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'failed', 'pending', 'delivered'), { failed: 1, pending: 0, delivered: 0 })
  assert.ok(lines.some((l) => l.level === 'error' && /given up after 3 attempt\(s\): HTTP 502/.test(l.msg)))

  // nothing listens: a network error, retried the same way
  const gone = await receiver()
  await gone.close()
  const refusedLines: LogLine[] = []
  const refused = createAlerts({ webhooks: [{ url: gone.url }], retry: { maxAttempts: 2, initialMs: 10 }, logger: capturingLogger(refusedLines) })
  t.after(() => refused.close())
  refused.emit(failed('t-2'))
  await refused.flush(5000)
  assert.deepEqual(pick(refused.stats().webhooks[0]!, 'requests', 'failed'), { requests: 2, failed: 1 })
  assert.ok(refusedLines.some((l) => /attempt 1 of 2 failed \(fetch failed \(.*ECONNREFUSED.*\)\)/.test(l.msg)), refusedLines.map((l) => l.msg).join('\n'))
})

void test('alerts: Retry-After is honoured on 429 and 503, and capped at retry.maxMs', async (t) => {
  const { alerts, rx } = await setup(
    t,
    (i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : i === 1 ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 }),
    { retry: { initialMs: 10, maxMs: 300 } },
  )
  alerts.emit(failed('t-1'))
  await alerts.flush(10_000)
  assert.equal(rx.received.length, 3)
  const first = rx.received[1]!.at - rx.received[0]!.at
  const second = rx.received[2]!.at - rx.received[1]!.at
  t.diagnostic(`Retry-After: 1 → waited ${first.toFixed(0)} ms; Retry-After: 3600 with maxMs 300 → waited ${second.toFixed(0)} ms`)
  // the backoff alone would have been 10 ms, then 20 ms. A 1 s Retry-After above maxMs is capped too: 300 ms.
  assert.ok(first >= 290, `waited ${first} ms`)
  assert.ok(second >= 290 && second < 3000, `waited ${second} ms`)
  assert.equal(parseRetryAfter('120'), 120_000)
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000)
  assert.equal(parseRetryAfter('soon'), undefined)
  assert.equal(parseRetryAfter(null), undefined)
})

void test('alerts: Retry-After within maxMs is waited in full', async (t) => {
  const { alerts, rx } = await setup(t, (i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }), { retry: { initialMs: 10, maxMs: 5000 } })
  alerts.emit(failed('t-1'))
  await alerts.flush(10_000)
  assert.equal(rx.received.length, 2)
  const gap = rx.received[1]!.at - rx.received[0]!.at
  t.diagnostic(`Retry-After: 1 → waited ${gap.toFixed(0)} ms`)
  assert.ok(gap >= 990, `waited ${gap} ms`)
})

void test('alerts: a 400 (or a redirect) is not retried; the log names the status and the start of the body', async (t) => {
  const { alerts, rx, lines } = await setup(t, (i) =>
    i === 0 ? { status: 400, body: `{"error":"bad payload\nfield x"}${'.'.repeat(5000)}` } : { status: 302, headers: { location: 'http://elsewhere.example/' } },
  )
  alerts.emit(failed('t-1'))
  await alerts.flush(5000)
  alerts.emit(failed('t-2'))
  await alerts.flush(5000)
  await sleep(100)
  assert.equal(rx.received.length, 2)
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'rejected', 'retries', 'delivered'), { rejected: 2, retries: 0, delivered: 0 })
  const errors = lines.filter((l) => l.level === 'error').map((l) => l.msg)
  assert.match(errors[0]!, /refused with HTTP 400, not retried: \{"error":"bad payload field x"\}\.+$/)
  assert.ok(errors[0]!.length < 600, 'only the first bytes of the body')
  assert.match(errors[1]!, /refused with HTTP 302 \(redirect to http:\/\/elsewhere\.example\/ not followed\), not retried/)
})

void test('alerts: an attempt that gets no answer within timeoutMs is retried', async (t) => {
  const { alerts, rx, lines } = await setup(t, (i) => (i === 0 ? 'hang' : { status: 200 }), { webhook: { timeoutMs: 200 } })
  const started = performance.now()
  alerts.emit(failed('t-1'))
  await alerts.flush(5000)
  assert.equal(rx.received.length, 2)
  assert.ok(performance.now() - started >= 190)
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'delivered', 'retries'), { delivered: 1, retries: 1 })
  assert.ok(lines.some((l) => /attempt 1 of 8 failed \(no answer within 200 ms\)/.test(l.msg)))
})

void test('alerts: a receiver that never answers does not slow emit(); the queue stays bounded', async (t) => {
  const { alerts, rx } = await setup(t, () => 'hang', { queueMax: 100, webhook: { timeoutMs: 60_000 } })
  const n = 10_000
  let result: unknown
  const started = performance.now()
  for (let i = 0; i < n; i++) result = alerts.emit(failed(`t-${i}`, 1))
  const elapsed = performance.now() - started
  t.diagnostic(`emit(): ${n} calls in ${elapsed.toFixed(1)} ms, ${((elapsed * 1000) / n).toFixed(2)} µs per call (receiver never answers)`)
  assert.equal(result, undefined, 'emit returns synchronously (no promise)')
  let stats = alerts.stats().webhooks[0]!
  assert.deepEqual(pick(stats, 'pending', 'dropped', 'requests'), { pending: 100, dropped: n - 100, requests: 0 })
  await waitFor(() => rx.received.length === 1, 'the first request to reach the receiver')
  // while the first request hangs, more alerts keep the bound
  for (let i = 0; i < 1000; i++) alerts.emit(failed(`u-${i}`, 1))
  stats = alerts.stats().webhooks[0]!
  assert.equal(stats.pending, 100 + 1, 'queueMax waiting plus the one in flight')
  assert.equal(rx.received[0]!.json.taskId, `t-${n - 100}`, 'the oldest were dropped, the newest kept')
  const closing = performance.now()
  await within(alerts.close(), 'close() with a request in flight', 2000)
  t.diagnostic(`close() with a hung request: ${(performance.now() - closing).toFixed(1)} ms`)
  assert.equal(alerts.stats().webhooks[0]!.discarded, 101)

  // the same with pino writing the warn lines to /dev/null: the log line is part of what emit() costs
  const withPino = createAlerts({ webhooks: [{ url: rx.url, timeoutMs: 60_000 }], queueMax: 100, logger: pino({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: true })) })
  t.after(() => withPino.close())
  const pinoStarted = performance.now()
  for (let i = 0; i < n; i++) withPino.emit(failed(`t-${i}`, 1))
  const pinoElapsed = performance.now() - pinoStarted
  t.diagnostic(`emit() with pino to /dev/null: ${n} calls in ${pinoElapsed.toFixed(1)} ms, ${((pinoElapsed * 1000) / n).toFixed(2)} µs per call`)
  assert.equal(withPino.stats().webhooks[0]!.pending, 100)
})

void test('alerts: a full queue drops the oldest pending alerts and counts them; order is kept', async (t) => {
  let release!: () => void
  const released = new Promise<Reply>((resolve) => (release = () => resolve({ status: 200 })))
  const { alerts, rx, lines } = await setup(t, (i) => (i === 0 ? released : { status: 200 }), { queueMax: 5 })
  alerts.emit(failed('t-0'))
  await waitFor(() => rx.received.length === 1, 'the first request')
  for (let i = 1; i <= 10; i++) alerts.emit(failed(`t-${i}`))
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'pending', 'dropped'), { pending: 6, dropped: 5 })
  release()
  await alerts.flush(5000)
  assert.deepEqual(
    rx.received.map((r) => r.json.taskId),
    ['t-0', 't-6', 't-7', 't-8', 't-9', 't-10'],
  )
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'delivered', 'dropped', 'pending'), { delivered: 6, dropped: 5, pending: 0 })
  assert.equal(lines.filter((l) => /queue full \(5\), \d+ oldest alert\(s\) dropped/.test(l.msg)).length, 1, 'one line, not one per drop')
})

void test('alerts: over the rate limit, held-back alerts go out coalesced in one batch request', async (t) => {
  // 60 a minute = one token a second; 2 back to back; at most 5 alerts per batch
  const { alerts, rx } = await setup(t, undefined, { rateLimit: { perMinute: 60, burst: 2, coalesceMax: 5 }, source: 'c1' })
  for (let i = 0; i < 10; i++) alerts.emit(failed(`t-${i}`))
  await alerts.flush(10_000)
  const kinds = rx.received.map((r) => `${r.json.kind}:${r.json.kind === 'batch' ? r.json.count : r.json.taskId}`)
  assert.deepEqual(kinds, ['task.failed:t-0', 'task.failed:t-1', 'batch:5', 'batch:3'])
  const gaps = rx.received.slice(1).map((r, i) => r.at - rx.received[i]!.at)
  t.diagnostic(`request gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms (burst 2, then one token a second)`)
  assert.ok(gaps[1]! >= 900 && gaps[2]! >= 900, `gaps ${gaps.join(', ')}`)
  const batch = rx.received[2]!.json as unknown as AlertBatchPayload
  assert.deepEqual(Object.keys(batch), ['kind', 'id', 'at', 'source', 'count', 'alerts'])
  assert.equal(rx.received[2]!.headers['x-skalds-alert-kind'], 'batch')
  assert.equal(rx.received[2]!.headers['x-skalds-alert-id'], batch.id)
  assert.deepEqual(batch.alerts.map((a) => (a.kind === 'task.failed' ? a.taskId : a.kind)), ['t-2', 't-3', 't-4', 't-5', 't-6'])
  assert.ok(batch.alerts.every((a) => a.kind === 'task.failed' && /^[0-9a-f]{32}$/.test(a.id) && a.source === 'c1'))
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'delivered', 'requests', 'coalesced'), { delivered: 10, requests: 4, coalesced: 8 })
})

void test('alerts: each webhook gets only the kinds it asked for', async (t) => {
  const { alerts, rx } = await setup(t, undefined, { webhook: { events: ['node.offline', 'task.failover'] } })
  alerts.emit(failed('t-1'))
  alerts.emit({ kind: 'node.offline', skaldId: 'n-1', lastSeenAt: null, taskIds: [] })
  alerts.emit({ kind: 'task.failover', taskId: 't-9', from: 'n-1', to: 'n-2', epoch: 2 })
  await alerts.flush(5000)
  assert.deepEqual(rx.received.map((r) => r.json.kind), ['node.offline', 'task.failover'])
  assert.equal(alerts.stats().emitted, 3)
})

void test('alerts: webhooks are independent: a dead one holds back none of the others', async (t) => {
  const dead = await receiver(() => 'hang')
  t.after(() => dead.close())
  const rx = await receiver()
  t.after(() => rx.close())
  const both = createAlerts({ webhooks: [{ url: dead.url, name: 'dead', timeoutMs: 60_000 }, { url: rx.url, name: 'alive' }], logger: capturingLogger([]) })
  t.after(() => both.close())
  for (let i = 0; i < 5; i++) both.emit(failed(`t-${i}`))
  await waitFor(() => rx.received.length === 5, 'the live webhook to get all five')
  assert.equal(dead.received.length, 1)
  assert.deepEqual(
    both.stats().webhooks.map((w) => [w.name, w.pending, w.delivered]),
    [['dead', 5, 0], ['alive', 0, 5]],
  )
})

void test('alerts: close() stops retries at once and resolves promptly', async (t) => {
  const { alerts, rx, lines } = await setup(t, () => ({ status: 500 }), { retry: { initialMs: 5000, maxMs: 5000 } })
  alerts.emit(failed('t-1'))
  alerts.emit(failed('t-2'))
  await waitFor(() => rx.received.length === 1, 'the first attempt')
  await waitFor(() => alerts.stats().webhooks[0]!.requests === 1 && lines.some((l) => /retrying in 5000 ms/.test(l.msg)), 'the retry to be scheduled')
  const started = performance.now()
  await alerts.close()
  const took = performance.now() - started
  t.diagnostic(`close() during a 5 s backoff: ${took.toFixed(1)} ms`)
  assert.ok(took < 500, `close took ${took} ms`)
  assert.deepEqual(pick(alerts.stats().webhooks[0]!, 'discarded', 'pending'), { discarded: 2, pending: 0 })
  alerts.emit(failed('t-3'))
  await alerts.close()
  await sleep(200)
  assert.equal(rx.received.length, 1, 'no retry after close(), nothing new sent')
  assert.equal(alerts.stats().webhooks[0]!.discarded, 3)
  assert.ok(lines.some((l) => l.level === 'warn' && /^alert task\.failed: task t-3/.test(l.msg)), 'an alert after close() is still logged')
})

void test('alerts: flush() waits for delivery, or gives up at its timeout without rejecting', async (t) => {
  const { alerts, rx } = await setup(t, async (i) => {
    await sleep(100)
    return i === 0 ? { status: 200 } : 'hang'
  })
  alerts.emit(failed('t-1'))
  await alerts.flush(5000)
  assert.equal(rx.received.length, 1)
  assert.equal(alerts.stats().webhooks[0]!.delivered, 1)
  alerts.emit(failed('t-2'))
  const started = performance.now()
  await alerts.flush(300)
  const took = performance.now() - started
  assert.ok(took >= 290 && took < 2000, `flush took ${took} ms`)
  assert.equal(alerts.stats().webhooks[0]!.pending, 1)
})

void test('alerts options: bad input is an AlertsOptionsError (E_ALERTS_OPTIONS) naming the field', () => {
  const bad = (options: unknown, pattern: RegExp) =>
    assert.throws(
      () => createAlerts(options as AlertsOptions),
      (e: unknown) => e instanceof AlertsOptionsError && e.code === 'E_ALERTS_OPTIONS' && pattern.test(e.message),
      `expected ${String(pattern)}`,
    )
  bad({ webhooks: 'https://a.example' }, /^alerts: webhooks: must be an array of webhooks, got string$/)
  bad({ webhooks: [{}] }, /^alerts: webhooks\[0\]\.url: must be an http:\/\/ or https:\/\/ URL, got undefined$/)
  bad({ webhooks: [{ url: 'https://a.example' }, { url: 'ftp://b.example/x' }] }, /^alerts: webhooks\[1\]\.url: must be an http:\/\/ or https:\/\/ URL, got ftp:\/\/…$/)
  bad({ webhooks: [{ url: 'not a url' }] }, /webhooks\[0\]\.url: is not a URL, got "not a url"/)
  bad({ webhooks: [{ url: 'https://user:pw@a.example' }] }, /webhooks\[0\]\.url: must not hold credentials/)
  bad({ webhooks: [{ url: 'https://a.example', events: ['task.failed', 'task.done'] }] }, /webhooks\[0\]\.events\[1\]: must be one of 'task\.failed', 'node\.offline', 'task\.failover', got "task\.done"/)
  bad({ webhooks: [{ url: 'https://a.example', events: [] }] }, /webhooks\[0\]\.events: must list at least one kind/)
  bad({ webhooks: [{ url: 'https://a.example', headers: { 'Content-Type': 'text/plain' } }] }, /webhooks\[0\]\.headers: Content-Type is set by the sender/)
  bad({ webhooks: [{ url: 'https://a.example', headers: { 'x-a': 'b\r\nx-c: d' } }] }, /headers: x-a: must not contain CR, LF or NUL/)
  bad({ webhooks: [{ url: 'https://a.example', headers: { 'bad name': 'x' } }] }, /headers: "bad name" is not a header name/)
  bad({ webhooks: [{ url: 'https://a.example', headers: { 'X-A': '1', 'x-a': '2' } }] }, /headers: x-a is given twice \(header names are case-insensitive\)/)
  bad({ webhooks: [{ url: 'https://a.example', timeoutMs: 0 }] }, /webhooks\[0\]\.timeoutMs: must be a positive integer, got 0/)
  bad({ webhooks: [{ url: 'https://a.example', secret: '' }] }, /webhooks\[0\]\.secret: must be a non-empty string/)
  bad({ webhooks: [{ url: 'https://a.example', rateLimit: { burst: 0 } }] }, /webhooks\[0\]\.rateLimit\.burst: must be a positive integer, got 0/)
  bad({ retry: { maxAttempts: 0 } }, /^alerts: retry\.maxAttempts: must be a positive integer, got 0$/)
  bad({ retry: { factor: 0.5 } }, /retry\.factor: must be a number from 1 to 1000, got 0\.5/)
  bad({ retry: { initialMs: 5000, maxMs: 1000 } }, /^alerts: retry\.initialMs: must be at most retry\.maxMs \(1000\), got 5000$/)
  bad({ rateLimit: { perMinute: 0 } }, /rateLimit\.perMinute: must be a number strictly between 0 and 1000000, got 0/)
  bad({ queueMax: 0 }, /^alerts: queueMax: must be a positive integer, got 0$/)
  bad({ fetch: 'fetch' }, /fetch: must be a function/)
  bad('x', /^alerts: options: must be an object, got string$/)
})

void test('alerts options: an injected fetch is used; a URL is named by its origin by default', async () => {
  const calls: { url: string; init: RequestInit }[] = []
  const alerts = createAlerts({
    webhooks: [{ url: 'https://hooks.example/services/SECRET' }, { url: 'https://b.example/x', name: 'pager' }],
    logger: capturingLogger([]),
    fetch: (url, init) => {
      calls.push({ url, init })
      return Promise.resolve(new Response(null, { status: 204 }))
    },
  })
  alerts.emit(failed('t-1'))
  await alerts.flush(2000)
  await alerts.close()
  assert.deepEqual(calls.map((c) => c.url).sort(), ['https://b.example/x', 'https://hooks.example/services/SECRET'])
  assert.equal(calls[0]!.init.redirect, 'manual')
  assert.deepEqual(alerts.stats().webhooks.map((w) => [w.name, w.delivered]), [['https://hooks.example', 1], ['pager', 1]])
})

void test('parseAlertWebhooksEnv: URLs, kind prefixes, and errors naming the variable', () => {
  assert.deepEqual(parseAlertWebhooksEnv('https://a.example/hook, https://b.example/x,'), [{ url: 'https://a.example/hook' }, { url: 'https://b.example/x' }])
  assert.deepEqual(parseAlertWebhooksEnv('task.failed|node.offline@https://a.example/h?k=v,https://user-less.example'), [
    { url: 'https://a.example/h?k=v', events: ['task.failed', 'node.offline'] },
    { url: 'https://user-less.example' },
  ])
  assert.deepEqual(parseAlertWebhooksEnv(''), [])
  const bad = (value: string, pattern: RegExp, variable?: string, source?: string) =>
    assert.throws(
      () => parseAlertWebhooksEnv(value, variable, source),
      (e: unknown) => e instanceof InvalidConfigError && e.code === 'E_INVALID_CONFIG' && pattern.test(e.message),
      `expected ${String(pattern)}`,
    )
  bad('https://a.example,ftp://b', /^SKALDS_ALERT_WEBHOOKS: entry 2 \("ftp:\/\/b"\): the URL must be an http:\/\/ or https:\/\/ URL/)
  bad('task.done@https://a.example', /^SKALDS_ALERT_WEBHOOKS: entry 1 .*: "task\.done" is not an alert kind \(known: task\.failed, node\.offline, task\.failover\)/)
  bad('https://u:p@a.example', /entry 1 .*must not hold credentials/)
  bad('hooks', /^MY_HOOKS: entry 1 \("hooks"\): the URL is not a URL/, 'MY_HOOKS')
  bad('hooks', /^\.env:3: SKALDS_ALERT_WEBHOOKS: /, undefined, '.env:3')
  // what it returns is valid alerts options
  assert.doesNotThrow(() => createAlerts({ webhooks: parseAlertWebhooksEnv('task.failover@https://a.example'), logger: capturingLogger([]) }))
})

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>
}
