// The lock contract: every LockStore (memory, Redis single/legacy/cluster, quorum) must pass these.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../src/config/logger.ts'
import { LockLostError, LockNotHeldError, LockTimeoutError } from '../../src/coordination/lock/errors.ts'
import { LockManager } from '../../src/coordination/lock/lock.ts'
import type { LockStore } from '../../src/coordination/lock/lock-store.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

export interface LockStoreFixture {
  store: LockStore
  close(): Promise<void>
}

/** Polls `check` until true or fails after `timeoutMs` (generous: the suite runs on loaded machines). */
let counter = 0
function key(label: string): string {
  return `${label}:${process.pid}:${Date.now().toString(36)}:${++counter}`
}

export function lockContract(name: string, setup: () => Promise<LockStoreFixture>): void {
  void describe(`lock contract: ${name}`, () => {
    let fixture: LockStoreFixture
    let locks: LockManager
    before(async () => {
      fixture = await setup()
      locks = new LockManager({ store: fixture.store, logger: silentLogger, ttl: '10s', waitTimeout: '5s', retryDelay: 20 })
    })
    after(async () => {
      await fixture.close()
    })

    void it('acquire hands out a fencing token, isLocked/isOwned see it, release frees it', async () => {
      const k = key('basic')
      assert.equal(await locks.isLocked(k), false)
      const lock = await locks.acquire(k)
      assert.ok(Number.isInteger(lock.fencingToken) && lock.fencingToken! >= 1)
      assert.equal(lock.held, true)
      assert.equal(await lock.isLocked(), true)
      assert.equal(await lock.isOwned(), true)
      assert.equal(await locks.tryAcquire(k), null)
      await lock.release()
      assert.equal(lock.held, false)
      assert.equal(lock.signal.aborted, false)
      assert.equal(await locks.isLocked(k), false)
      assert.equal(await lock.isOwned(), false)
    })

    void it('fencing tokens strictly increase across owners of one key', async () => {
      const k = key('fence')
      let last = 0
      for (let i = 0; i < 6; i++) {
        const lock = (await locks.tryAcquire(k))!
        assert.ok(lock, 'free lock must be acquired')
        assert.ok(lock.fencingToken! > last, `token ${lock.fencingToken} must exceed ${last}`)
        last = lock.fencingToken!
        await lock.release()
      }
    })

    void it('a lock object can be reused after release and gets a new token', async () => {
      const lock = locks.lock(key('reuse'))
      const first = await lock.acquire()
      await assert.rejects(lock.tryAcquire(), /already holds the lock/)
      await lock.release()
      const second = await lock.acquire()
      assert.ok(second > first)
      await lock.release()
      await assert.rejects(lock.release(), LockNotHeldError)
    })

    void it('acquire waits for the holder to release, then wins with a larger token', async () => {
      const k = key('wait')
      const holder = await locks.acquire(k)
      const waiting = locks.acquire(k, { waitTimeout: '8s' })
      await sleep(100)
      await holder.release()
      const next = await waiting
      assert.ok(next.fencingToken! > holder.fencingToken!)
      await next.release()
    })

    void it('acquire gives up with LockTimeoutError after its wait timeout', async () => {
      const k = key('timeout')
      const holder = await locks.acquire(k)
      const started = Date.now()
      await assert.rejects(locks.acquire(k, { waitTimeout: 200 }), (error: unknown) => {
        assert.ok(error instanceof LockTimeoutError)
        assert.equal(error.code, 'E_LOCK_TIMEOUT')
        assert.match(error.message, /still held by another owner after waiting 200 ms/)
        return true
      })
      assert.ok(Date.now() - started >= 190)
      await assert.rejects(locks.acquire(k, { waitTimeout: 0 }), LockTimeoutError)
      await holder.release()
    })

    void it('an abort signal stops a waiting acquire', async () => {
      const k = key('abort')
      const holder = await locks.acquire(k)
      const controller = new AbortController()
      const waiting = locks.acquire(k, { waitTimeout: '20s', signal: controller.signal })
      setTimeout(() => controller.abort(new Error('gave up')), 50)
      await assert.rejects(waiting, /gave up/)
      await holder.release()
    })

    void it('release and extend are checked against the owner token', async () => {
      const k = key('owner')
      const lock = await locks.acquire(k)
      assert.equal(await fixture.store.release(k, 'not-the-owner'), false)
      assert.equal(await fixture.store.extend(k, 'not-the-owner', 60_000), 0)
      assert.equal(await lock.isOwned(), true)
      await lock.release()
    })

    void it('extend keeps a lock past its original TTL', async () => {
      const k = key('extend')
      const lock = await locks.acquire(k, { ttl: 400, autoExtend: false })
      await lock.extend('10s')
      await sleep(700)
      assert.equal(await lock.isOwned(), true)
      assert.equal(lock.signal.aborted, false)
      await lock.release()
    })

    void it('the watchdog extends a held lock automatically', async () => {
      const k = key('watchdog')
      const lock = await locks.acquire(k, { ttl: 1000 })
      await sleep(2500)
      assert.equal(await lock.isOwned(), true, 'auto-extension must keep the lock')
      assert.equal(lock.signal.aborted, false)
      assert.equal(await locks.tryAcquire(k), null)
      await lock.release()
    })

    void it('an expired lock aborts its signal, goes to the next owner with a larger token, and release throws', async () => {
      const k = key('expire')
      const lock = await locks.acquire(k, { ttl: 200, autoExtend: false })
      await waitFor(() => lock.signal.aborted, 'the signal to abort on expiry')
      assert.ok(lock.signal.reason instanceof LockLostError)
      assert.equal(lock.held, false)
      const next = await locks.acquire(k)
      assert.ok(next.fencingToken! > lock.fencingToken!)
      await assert.rejects(lock.extend(), LockLostError)
      await assert.rejects(lock.release(), (error: unknown) => error instanceof LockLostError && error.code === 'E_LOCK_LOST')
      assert.equal(await next.isOwned(), true, "the old holder's release must not free the new owner's lock")
      await next.release()
    })

    void it('a lock taken over by another owner is reported through the signal by the watchdog', async () => {
      const k = key('stolen')
      const lock = await locks.acquire(k, { ttl: 900 })
      const owner = await fixture.store.ownerOf(k)
      assert.ok(owner)
      assert.equal(await fixture.store.release(k, owner), true)
      const thief = await locks.acquire(k)
      await waitFor(() => lock.signal.aborted, 'the watchdog to notice the loss')
      assert.ok(lock.signal.reason instanceof LockLostError)
      assert.match((lock.signal.reason as Error).message, /lost/)
      await assert.rejects(lock.release(), LockLostError)
      assert.equal(await thief.isOwned(), true)
      await thief.release()
    })

    void it('`await using` releases the lock at the end of the scope', async () => {
      const k = key('using')
      {
        await using held = await locks.acquire(k)
        assert.equal(await held.isOwned(), true)
      }
      assert.equal(await locks.isLocked(k), false)
    })

    void it('withLock runs the function under the lock and releases, also when it throws', async () => {
      const k = key('with')
      const result = await locks.withLock(k, async (lock) => {
        assert.equal(await lock.isOwned(), true)
        return 42
      })
      assert.equal(result, 42)
      assert.equal(await locks.isLocked(k), false)
      await assert.rejects(
        locks.withLock(k, () => {
          throw new Error('boom')
        }),
        /boom/,
      )
      assert.equal(await locks.isLocked(k), false)
    })

    void it('withLock rejects with LockLostError when the lock was lost during the function', async () => {
      const k = key('with-lost')
      await assert.rejects(
        locks.withLock(
          k,
          async (lock) => {
            await waitFor(() => lock.signal.aborted, 'expiry')
            return 'done without protection'
          },
          { ttl: 150, autoExtend: false },
        ),
        LockLostError,
      )
    })

    void it('concurrent contenders in one process never overlap', async () => {
      const k = key('mutex')
      let inside = 0
      let maxInside = 0
      const tokens: number[] = []
      await Promise.all(
        Array.from({ length: 12 }, () =>
          locks.withLock(
            k,
            async (lock) => {
              inside++
              maxInside = Math.max(maxInside, inside)
              tokens.push(lock.fencingToken!)
              await sleep(5)
              inside--
            },
            { waitTimeout: '30s' },
          ),
        ),
      )
      assert.equal(maxInside, 1)
      assert.deepEqual(
        tokens,
        [...tokens].sort((a, b) => a - b),
      )
      assert.equal(new Set(tokens).size, tokens.length)
    })

    void it('many locks taken at once (one batch) each go to exactly one contender', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => key(`many-${i}`))
      const attempts = await Promise.all(keys.flatMap((k) => [k, k, k].map((kk) => locks.tryAcquire(kk).then((lock) => [kk, lock] as const))))
      for (const k of keys) assert.equal(attempts.filter(([kk, lock]) => kk === k && lock).length, 1, `key ${k}`)
      const held = attempts.flatMap(([, lock]) => (lock ? [lock] : []))
      await Promise.all(held.map((lock) => lock.release()))
      for (const k of keys) assert.equal(await locks.isLocked(k), false)
    })

    void it('rejects bad input with a message naming the field', () => {
      assert.throws(() => locks.lock(''), /lock key: must be a non-empty string/)
      assert.throws(() => locks.lock(undefined as unknown as string), /lock key/)
      assert.throws(() => locks.lock('k', { ttl: 0 }), /lock ttl: must be a whole number of ms >= 1/)
      assert.throws(() => locks.lock('k', { ttl: -5 }), /lock ttl/)
      assert.throws(() => locks.lock('k', { ttl: '3 weeks' as never }), /lock ttl/)
      assert.throws(() => locks.lock('k', { retryDelay: 0 }), /lock retryDelay/)
      assert.throws(() => locks.lock('k', { ttl: 1000, extendInterval: 1000 }), /extendInterval/)
      assert.throws(() => new LockManager({ store: undefined as never }), /store: required/)
    })
  })
}
