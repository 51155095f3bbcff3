// The refresh scheduler contract, over every store: MemoryBackend, and RedisBackend on Redis 8 / 7.0 / cluster.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../src/redis/errors.ts'
import { dayRollover, RefreshScheduler, RefreshTimeoutError, type RefreshStore } from '../../src/coordination/refresh/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

export interface RefreshTarget {
  store: RefreshStore
  /** a store whose every call fails as an unreachable Redis does */
  deadStore(): Promise<RefreshStore>
  /** a key prefix unique to this test */
  prefix: string
  cleanup(): Promise<void>
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

export function refreshContract(name: string, factory: () => Promise<RefreshTarget>): void {
  void describe(`refresh contract: ${name}`, () => {
    const run = (title: string, body: (t: RefreshTarget, make: () => RefreshScheduler) => Promise<void>) =>
      void test(title, async () => {
        const target = await factory()
        const schedulers: RefreshScheduler[] = []
        const make = () => {
          const scheduler = new RefreshScheduler({ store: target.store, keyPrefix: target.prefix, logger: silentLogger })
          schedulers.push(scheduler)
          return scheduler
        }
        try {
          await body(target, make)
        } finally {
          for (const s of schedulers) await s.stop()
          await target.cleanup()
        }
      })

    run('bad job options are rejected naming the field and the reason', async (_t, make) => {
      const s = make()
      const load = () => 1
      const bad = (options: object, pattern: RegExp) =>
        assert.throws(() => s.register({ name: 'j', load, ...options } as never), (e: Error) => e instanceof InvalidArgumentError && pattern.test(e.message), String(pattern))
      bad({ key: 'k', every: '30m', ttl: '30m' }, /ttl: must be longer than the refresh interval \(1800000 ms\).*got 1800000 ms/)
      bad({ key: 'k', every: '30m', ttl: '10m' }, /ttl: must be longer/)
      bad({ key: 'k', keys: () => [], every: 1000, ttl: 5000 }, /exactly one of key .* or keys/)
      bad({ every: 1000, ttl: 5000 }, /exactly one of key/)
      bad({ key: '', every: 1000, ttl: 5000 }, /key: must be a non-empty string/)
      bad({ key: 'k', ttl: 5000 }, /exactly one of every .* or cron/)
      bad({ key: 'k', every: 1000, cron: '* * * * *', ttl: 5000 }, /exactly one of every/)
      bad({ key: 'k', cron: 'not a cron', ttl: 5000 }, /cron: "not a cron" is not a valid expression/)
      bad({ key: 'k', cron: '*/5 * * * *', ttl: '5m' }, /ttl: must be longer than the refresh interval \(300000 ms\)/)
      bad({ key: 'k', every: 0, ttl: 5000 }, /every: must be at least 1 ms, got 0/)
      assert.throws(() => s.register({ name: 'j', load, key: 'k', every: 'soon' as never, ttl: 5000 }), /refresh job j: every: "soon" is not a duration/)
      bad({ key: 'k', every: 1000, ttl: 5000, emptyTtl: 6000 }, /emptyTtl: must be between 1 ms and ttl/)
      bad({ key: 'k', every: 1000, ttl: 5000, limit: { keep: 'first', count: 0 } }, /limit\.count: must be a positive integer/)
      bad({ key: 'k', every: 1000, ttl: 5000, limit: { keep: 'top', count: 3 } }, /limit\.keep: must be one of 'first', 'last'/)
      bad({ key: 'k', every: 1000, ttl: 5000, jitter: 1000 }, /jitter: must be shorter than the interval/)
      bad({ key: 'k', every: 1000, ttl: 5000, concurrency: 0 }, /concurrency: must be a positive integer/)
      assert.throws(() => s.register({ name: '', key: 'k', load, every: 1000, ttl: 5000 }), /name: must be a non-empty string/)
      assert.throws(() => s.register({ name: 'j', key: 'k', load: 'x' as never, every: 1000, ttl: 5000 }), /load: must be a function/)
      s.register({ name: 'ok', key: 'k', load, every: 1000, ttl: 5000 })
      assert.throws(() => s.register({ name: 'ok', key: 'k2', load, every: 1000, ttl: 5000 }), /already registered/)
      s.register({ name: 'family', keys: () => ['a'], load, every: 1000, ttl: 5000 })
      await assert.rejects(s.get('nope'), /no refresh job named "nope"/)
      await assert.rejects(s.get('family'), /key: job family refreshes a key family; name the key/)
      await assert.rejects(s.get('ok', 'other'), /key: job ok refreshes "k" only/)
      assert.throws(() => s.metrics('nope'), /no refresh job named/)
    })

    run('runNow loads and stores; readers get the stored value without loading again', async (_t, make) => {
      const s = make()
      let loads = 0
      s.register({ name: 'projects', key: 'projects:list:ongoing', every: '1h', ttl: '2h', load: () => ({ projects: [{ id: ++loads }] }) })
      const result = await s.runNow('projects')
      assert.equal(result.status, 'success')
      assert.equal(result.keys, 1)
      assert.deepEqual(await s.get('projects'), { projects: [{ id: 1 }] })
      assert.deepEqual(await s.get('projects', 'projects:list:ongoing'), { projects: [{ id: 1 }] })
      assert.equal(loads, 1)
      const m = s.metrics('projects')
      assert.deepEqual([m.runs, m.successes, m.failures, m.successRate, m.hits, m.misses], [1, 1, 0, 1, 2, 0])
      assert.ok(m.lastSuccessAt! > 0 && m.lastDurationMs! >= 0 && m.lastError === undefined)
    })

    run('a key family refreshes every key; getMany reads them in one go', async (_t, make) => {
      const s = make()
      const ids = ['1141', '2252', '3363']
      s.register({ name: 'stats', keys: () => Promise.resolve(ids.map((id) => `project:${id}:stats`)), every: '30m', ttl: '1h', concurrency: 2, load: (key) => ({ key, members: key.length }) })
      assert.equal((await s.runNow('stats')).keys, 3)
      assert.deepEqual(await s.get('stats', 'project:2252:stats'), { key: 'project:2252:stats', members: 18 })
      const many = await s.getMany<{ key: string }>('stats', ids.map((id) => `project:${id}:stats`))
      assert.deepEqual(many.map((v) => v.key), ids.map((id) => `project:${id}:stats`))
      assert.equal(s.metrics('stats').misses, 0)
    })

    run('readers keep getting the previous value while a refresh runs (write-then-swap)', async (_t, make) => {
      const s = make()
      let version = 0
      let gate: Promise<void> | undefined = undefined
      s.register({
        name: 'board',
        key: 'leaderboard',
        every: '30m',
        ttl: '1h',
        load: async () => {
          const v = ++version
          if (gate) await gate
          return { v }
        },
      })
      await s.runNow('board')
      const release = deferred<void>()
      gate = release.promise
      const running = s.runNow('board')
      await waitFor(() => version === 2, 'the second load to start')
      for (let i = 0; i < 5; i++) assert.deepEqual(await s.get('board'), { v: 1 }, 'the old value while the refresh runs')
      release.resolve()
      assert.equal((await running).status, 'success')
      assert.deepEqual(await s.get('board'), { v: 2 })
    })

    run('a failed refresh keeps the previous value and shows in the metrics', async (_t, make) => {
      const s = make()
      let fail = false
      s.register({ name: 'flaky', key: 'flaky', every: '1h', ttl: '2h', load: () => {
        if (fail) throw new Error('upstream 502')
        return 'good'
      } })
      await s.runNow('flaky')
      fail = true
      const result = await s.runNow('flaky')
      assert.equal(result.status, 'failure')
      assert.match(result.reason!, /upstream 502/)
      assert.equal(await s.get('flaky'), 'good')
      const m = s.metrics('flaky')
      assert.deepEqual([m.runs, m.successes, m.failures, m.successRate], [2, 1, 1, 0.5])
      assert.match(m.lastError!, /1 of 1 keys failed; first: flaky: upstream 502/)
      assert.ok(m.lastErrorAt! >= m.lastSuccessAt!)
    })

    run('a run past its timeout fails and writes nothing', async (_t, make) => {
      const s = make()
      let slow = false
      s.register({ name: 'slow', key: 'slow', every: '1h', ttl: '2h', timeout: 200, load: async (_key, { signal }) => {
        if (!slow) return 'fast'
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
        return 'too late'
      } })
      await s.runNow('slow')
      slow = true
      const result = await s.runNow('slow')
      assert.equal(result.status, 'failure')
      assert.ok(result.error instanceof RefreshTimeoutError)
      await sleep(50)
      assert.equal(await s.get('slow'), 'fast')
    })

    run('empty results are cached with the short emptyTtl, others with ttl', async (t, make) => {
      const s = make()
      s.register({ name: 'topics', keys: () => ['empty', 'full'], every: '5m', ttl: '10m', emptyTtl: '30s', load: (key) => (key === 'empty' ? [] : [{ id: 1 }]) })
      await s.runNow('topics')
      const emptyTtl = await t.store.ttl(`${t.prefix}value:empty`)
      const fullTtl = await t.store.ttl(`${t.prefix}value:full`)
      assert.ok(typeof emptyTtl === 'number' && emptyTtl > 0 && emptyTtl <= 30_000, `empty: ${emptyTtl}`)
      assert.ok(typeof fullTtl === 'number' && fullTtl > 30_000 && fullTtl <= 600_000, `full: ${fullTtl}`)
      assert.deepEqual(await s.get('topics', 'empty'), [])
    })

    run('list limits keep the top N (first) or the latest N (last), on the value or on a field', async (_t, make) => {
      const s = make()
      const list = Array.from({ length: 150 }, (_, i) => i)
      s.register({ name: 'top', key: 'leaderboard:continuous', every: '30m', ttl: '1h', limit: { keep: 'first', count: 100, field: 'rankings' }, load: () => ({ type: 'continuous', rankings: list, total: 150 }) })
      s.register({ name: 'latest', key: 'topics', every: '5m', ttl: '10m', limit: { keep: 'last', count: 20 }, load: () => list })
      s.register({ name: 'wrong', key: 'wrong', every: '5m', ttl: '10m', limit: { keep: 'last', count: 20 }, load: () => 'not a list' })
      await s.runNow('top')
      await s.runNow('latest')
      const top = await s.get<{ rankings: number[]; total: number }>('top')
      assert.deepEqual(top.rankings, list.slice(0, 100))
      assert.equal(top.total, 150)
      assert.deepEqual(await s.get('latest'), list.slice(130))
      const wrong = await s.runNow('wrong')
      assert.equal(wrong.status, 'failure')
      assert.match(wrong.reason!, /limit applies to an array/)
    })

    run('a missing value is loaded live, cached, and counted as a miss', async (_t, make) => {
      const s = make()
      let loads = 0
      s.register({ name: 'info', keys: () => [], every: '1h', ttl: '2h', load: (key) => ({ key, n: ++loads }) })
      const [a, b] = await Promise.all([s.get('info', 'project:9:info'), s.get('info', 'project:9:info')])
      assert.deepEqual(a, { key: 'project:9:info', n: 1 })
      assert.deepEqual(b, a, 'concurrent misses share one load')
      assert.deepEqual(await s.get('info', 'project:9:info'), { key: 'project:9:info', n: 1 })
      const m = s.metrics('info')
      assert.deepEqual([m.misses, m.hits, loads], [2, 1, 1])
    })

    run('when the store is down, readers load live (counted as fallbacks) and runs fail without throwing', async (t) => {
      const s = new RefreshScheduler({ store: await t.deadStore(), keyPrefix: t.prefix, logger: silentLogger })
      let loads = 0
      s.register({ name: 'live', key: 'live', every: '1h', ttl: '2h', load: () => ++loads })
      assert.equal(await s.get('live'), 1)
      assert.equal(await s.get('live'), 2)
      assert.deepEqual(await s.getMany('live', ['live']), [3])
      const result = await s.runNow('live')
      assert.equal(result.status, 'failure')
      assert.match(result.reason!, /store is unreachable/)
      const m = s.metrics('live')
      assert.deepEqual([m.fallbacks, m.hits, m.misses, m.failures], [3, 0, 0, 1])
      await s.stop()
    })

    run('two instances on one store: runNow never overlaps, and scheduled ticks run at most once each', async (_t, make) => {
      const a = make()
      const b = make()
      let active = 0
      let maxActive = 0
      const ticks: number[] = []
      const job = (s: RefreshScheduler) =>
        s.register({ name: 'shared', key: 'shared', every: 300, ttl: 3000, jitter: 100, load: async (_key, ctx) => {
          active++
          maxActive = Math.max(maxActive, active)
          await sleep(20)
          active--
          if (ctx.reason === 'schedule') ticks.push(ctx.tick)
          return ctx.tick
        } })
      job(a)
      job(b)
      const results = await Promise.all([a.runNow('shared'), b.runNow('shared'), a.runNow('shared')])
      assert.ok(results.every((r) => r.status === 'success'))
      assert.equal(maxActive, 1, 'never two loads at once')
      a.start()
      b.start()
      await waitFor(() => ticks.length >= 4, 'four scheduled refreshes', 20_000)
      await a.stop()
      await b.stop()
      assert.equal(new Set(ticks).size, ticks.length, `each tick refreshed once: ${ticks.join(', ')}`)
      assert.ok(ticks.every((tick) => tick % 300 === 0), 'ticks are aligned to the interval')
      const skipped = a.metrics('shared').skipped + b.metrics('shared').skipped
      assert.ok(skipped >= ticks.length - 1, `the other instance skipped (skipped ${skipped})`)
    })

    run('runOnStart refreshes the current tick once across instances', async (_t, make) => {
      let loads = 0
      const job = (s: RefreshScheduler) => s.register({ name: 'warm', key: 'warm', every: '1h', ttl: '2h', jitter: 0, load: () => ++loads })
      const a = make()
      job(a)
      a.start()
      await waitFor(() => a.metrics('warm').successes === 1, 'the start-up refresh')
      const b = make()
      job(b)
      b.start()
      await waitFor(() => b.metrics('warm').skipped === 1, 'the second instance to skip the refreshed tick')
      assert.equal(loads, 1)
    })

    run('forceWhen forces a refresh outside the schedule, once per condition', async (_t, make) => {
      const s = make()
      let loads = 0
      const since = Date.now()
      s.register({
        name: 'daily',
        key: 'project:1:daily_stats',
        every: '15m',
        ttl: '30m',
        runOnStart: false,
        forceCheckEvery: 50,
        // stands in for dayRollover(): true until a refresh happened after `since`
        forceWhen: ({ lastSuccessAt }) => lastSuccessAt === undefined || lastSuccessAt < since,
        load: () => ++loads,
      })
      s.start()
      await waitFor(() => loads === 1, 'the forced refresh')
      await sleep(500)
      assert.equal(loads, 1, 'the condition cleared once refreshed')
      assert.equal(await s.get('daily'), 1)
    })

    run('a cron job fires on its cron times', async (_t, make) => {
      const s = make()
      const ticks: number[] = []
      s.register({ name: 'cron', key: 'cron', cron: '* * * * * *', ttl: '5s', jitter: 0, runOnStart: false, load: (_key, ctx) => {
        ticks.push(ctx.tick)
        return ctx.tick
      } })
      s.start()
      await waitFor(() => ticks.length >= 2, 'two cron runs', 15_000)
      assert.ok(ticks.every((tick) => tick % 1000 === 0), `whole seconds: ${ticks.join(', ')}`)
    })
  })
}

void test('dayRollover: true when the calendar day changed in the time zone, or nothing was refreshed yet', () => {
  const shanghai = dayRollover('Asia/Shanghai')
  const at = (iso: string) => Date.parse(iso)
  assert.equal(shanghai({ lastSuccessAt: undefined, now: at('2025-01-15T10:00:00Z') }), true)
  assert.equal(shanghai({ lastSuccessAt: at('2025-01-15T10:00:00Z'), now: at('2025-01-15T15:59:00Z') }), false, '23:59 in Shanghai')
  assert.equal(shanghai({ lastSuccessAt: at('2025-01-15T10:00:00Z'), now: at('2025-01-15T16:00:00Z') }), true, 'midnight in Shanghai')
  assert.equal(dayRollover('UTC')({ lastSuccessAt: at('2025-01-15T10:00:00Z'), now: at('2025-01-15T16:00:00Z') }), false)
  assert.throws(() => dayRollover('Mars/Olympus'), /timeZone: "Mars\/Olympus" is not a known time zone/)
})
