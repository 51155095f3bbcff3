// One member of a consumer group on a Redis Streams topic: holds leases on some of the topic's partitions (a fair
// share of them), takes over what a previous owner left unacknowledged (XAUTOCLAIM), reads its partitions with one
// blocking XREADGROUP, and handles entries one at a time.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { RedisConnection } from '../redis/connection.ts'
import { luaLoader } from '../redis/lua.ts'
import { deliver, type DeliveryOutcome, type ResolvedSubscribeOptions, settlesWithin, sleep, keyHash } from './delivery.ts'
import type { RedisStreamsBusContext, TopicKeys } from './redis-streams-topic.ts'
import type { EventHandler, Subscription } from './types.ts'

const loadLua = luaLoader(new URL('./lua/', import.meta.url))
const renewScript = loadLua('bus-lease-renew-1.lua')
const releaseScript = loadLua('bus-lease-release-1.lua')

interface OwnedPartition {
  stream: string
  /** Entries left pending by earlier owners are claimed before new ones are read. */
  claimed: boolean
}

interface StreamEntry {
  partition: number
  id: string
  fields: string[] | null
  deliveries: number
}

export interface RedisStreamsSubscriptionInit {
  bus: RedisStreamsBusContext
  topic: string
  group: string
  partitions: number
  handler: EventHandler<unknown>
  options: ResolvedSubscribeOptions<unknown>
  onClosed: (subscription: RedisStreamsSubscription) => void
}

export class RedisStreamsSubscription implements Subscription {
  readonly topic: string
  readonly group: string
  /** The Redis consumer name of this member: unique per subscription. */
  readonly consumerId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
  readonly #bus: RedisStreamsBusContext
  readonly #connection: RedisConnection
  readonly #keys: TopicKeys
  readonly #partitions: number
  readonly #handler: EventHandler<unknown>
  readonly #options: ResolvedSubscribeOptions<unknown>
  readonly #onClosed: (subscription: RedisStreamsSubscription) => void
  readonly #owned = new Map<number, OwnedPartition>()
  /** Partitions to hand back, released by the read loop between reads (never while one of its entries is read). */
  readonly #toRelease = new Set<number>()
  readonly #abort = new AbortController()
  #reader: RedisConnection | undefined
  #timer: NodeJS.Timeout | undefined
  #ticking: Promise<void> | undefined
  #loop: Promise<void> | undefined
  #current: Promise<DeliveryOutcome> | undefined
  #abandoned = false
  #closing: Promise<void> | undefined
  #lastSweep = 0
  #errorLogged = false

  constructor(init: RedisStreamsSubscriptionInit) {
    this.#bus = init.bus
    this.#connection = init.bus.connection
    this.topic = init.topic
    this.group = init.group
    this.#keys = init.bus.keys(init.topic)
    this.#partitions = init.partitions
    this.#handler = init.handler
    this.#options = init.options
    this.#onClosed = init.onClosed
  }

  get #leaseMs(): number {
    return this.#bus.options.leaseMs
  }

  /** Creates the group on every partition, takes a first share of partitions, starts reading. */
  async start(): Promise<void> {
    await this.#createGroups()
    this.#reader = await this.#connection.duplicate()
    await this.#rebalance()
    this.#timer = setInterval(() => this.#tick(), Math.max(100, Math.floor(this.#leaseMs / 3)))
    this.#loop = this.#run()
  }

  async #createGroups(): Promise<void> {
    const start = this.#options.startFrom === 'earliest' ? '0' : '$'
    for (let p = 0; p < this.#partitions; p++) {
      const stream = this.#keys.stream(p)
      try {
        await this.#connection.send(['XGROUP', 'CREATE', stream, this.group, start, 'MKSTREAM'], { key: stream })
      } catch (error) {
        if (!/BUSYGROUP/.test((error as Error).message)) throw error
      }
    }
  }

  #tick(): void {
    if (this.#ticking || this.#closing) return
    if (this.#connection.closed) {
      void this.close()
      return
    }
    this.#ticking = this.#rebalance()
      .catch((error: unknown) => this.#logError('lease renewal failed', error))
      .finally(() => {
        this.#ticking = undefined
      })
  }

  /** Heartbeat: renews membership and leases, then moves towards a fair share of the partitions. */
  async #rebalance(): Promise<void> {
    const members = this.#keys.members(this.group)
    const time = await this.#connection.send<[string, string]>(['TIME'], { key: members })
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
    await this.#connection.send(['ZADD', members, String(now + this.#leaseMs), this.consumerId], { key: members })
    await this.#connection.send(['PEXPIRE', members, String(this.#leaseMs * 10)], { key: members })
    await this.#connection.send(['ZREMRANGEBYSCORE', members, '-inf', `(${now}`], { key: members })
    const count = Math.max(1, Number(await this.#connection.send(['ZCARD', members], { key: members })))
    const share = Math.ceil(this.#partitions / count)
    for (const partition of [...this.#owned.keys()]) {
      const lease = this.#keys.lease(this.group, partition)
      const renewed = await this.#connection.evalScript<number>(renewScript, [lease], [this.consumerId, this.#leaseMs])
      if (Number(renewed) !== 1) {
        this.#owned.delete(partition)
        this.#bus.logger.warn(`bus ${this.topic} [${this.group}]: lost the lease on partition ${partition} (expired)`)
      }
    }
    // Over the share: hand back the highest partitions, through the read loop.
    const mine = [...this.#owned.keys()].sort((a, b) => b - a)
    this.#toRelease.clear()
    for (let i = 0; i < mine.length - share; i++) this.#toRelease.add(mine[i]!)
    if (this.#owned.size >= share || this.#closing) return
    const first = keyHash(this.consumerId) % this.#partitions
    for (let i = 0; i < this.#partitions && this.#owned.size < share; i++) {
      const partition = (first + i) % this.#partitions
      if (this.#owned.has(partition)) continue
      const lease = this.#keys.lease(this.group, partition)
      const ok = await this.#connection.send(['SET', lease, this.consumerId, 'NX', 'PX', String(this.#leaseMs)], { key: lease })
      if (ok === 'OK') this.#owned.set(partition, { stream: this.#keys.stream(partition), claimed: false })
    }
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      try {
        await this.#releaseRequested()
        const claimAll = Date.now() - this.#lastSweep >= this.#leaseMs
        if (claimAll) this.#lastSweep = Date.now()
        for (const [partition, owned] of [...this.#owned]) {
          if (owned.claimed && !claimAll) continue
          await this.#claimPending(partition, owned.stream)
          if (this.#owned.get(partition) === owned) owned.claimed = true
        }
        if (this.#closing) break
        const owned = [...this.#owned]
        if (owned.length === 0) {
          await sleep(Math.min(500, this.#bus.options.blockMs), this.#abort.signal)
          continue
        }
        const entries = await this.#read(owned)
        for (const entry of entries) {
          if (!(await this.#handle(entry))) break
        }
        this.#errorLogged = false
      } catch (error) {
        if (this.#closing) break
        if (this.#connection.closed) {
          // The caller closed the bus' connection under it: nothing can succeed any more.
          this.#bus.logger.error(`bus ${this.topic} [${this.group}]: the Redis connection was closed; the subscription stops`)
          void this.close()
          break
        }
        if (/NOGROUP/.test((error as Error).message)) {
          // The streams vanished (a server restarted without persistence, or keys were deleted): start over.
          await this.#createGroups().catch(() => {})
          for (const owned of this.#owned.values()) owned.claimed = false
        }
        this.#logError('read failed', error)
        await sleep(500, this.#abort.signal)
      }
    }
  }

  async #releaseRequested(): Promise<void> {
    for (const partition of this.#toRelease) {
      this.#toRelease.delete(partition)
      if (!this.#owned.delete(partition)) continue
      await this.#connection.evalScript(releaseScript, [this.#keys.lease(this.group, partition)], [this.consumerId])
    }
  }

  /** Takes over (XAUTOCLAIM from 0-0, min idle 0) every entry of the group still pending in a partition we own:
   *  entries a previous owner read but never acknowledged. Handles them in stream order. */
  async #claimPending(partition: number, stream: string): Promise<void> {
    let cursor = '0-0'
    do {
      if (this.#closing || !this.#owned.has(partition)) return
      const reply = await this.#connection.send<[string, Array<[string, string[] | null] | null>, string[]?]>(
        ['XAUTOCLAIM', stream, this.group, this.consumerId, '0', cursor, 'COUNT', String(this.#bus.options.batchSize)],
        { key: stream },
      )
      cursor = String(reply[0])
      const deleted = reply[2] ?? []
      if (deleted.length > 0) {
        this.#bus.logger.error(
          `bus ${this.topic} [${this.group}]: ${deleted.length} unacknowledged entries of partition ${partition} were trimmed (maxLen) before they were handled`,
        )
      }
      const claimed = (reply[1] ?? []).filter((e): e is [string, string[] | null] => Array.isArray(e))
      if (claimed.length === 0) continue
      const counts = await this.#deliveryCounts(stream, claimed[0]![0], claimed[claimed.length - 1]![0], claimed.length)
      for (const [id, fields] of claimed) {
        const ok = await this.#handle({ partition, id: String(id), fields, deliveries: counts.get(String(id)) ?? 2 })
        if (!ok) return
      }
    } while (cursor !== '0-0')
    await this.#forgetIdleConsumers(stream)
  }

  async #deliveryCounts(stream: string, from: string, to: string, count: number): Promise<Map<string, number>> {
    const rows = await this.#connection.send<Array<[string, string, number, number]>>(
      ['XPENDING', stream, this.group, from, to, String(count), this.consumerId],
      { key: stream },
    )
    return new Map(rows.map((row) => [String(row[0]), Number(row[3])]))
  }

  /** Drops group consumers that own nothing and were idle longer than a lease: members that died and were taken over. */
  async #forgetIdleConsumers(stream: string): Promise<void> {
    const rows = await this.#connection.send<unknown[][]>(['XINFO', 'CONSUMERS', stream, this.group], { key: stream })
    for (const row of rows) {
      const info = new Map<string, unknown>()
      for (let i = 0; i + 1 < row.length; i += 2) info.set(String(row[i]), row[i + 1])
      const name = String(info.get('name'))
      if (name !== this.consumerId && Number(info.get('pending')) === 0 && Number(info.get('idle')) > this.#leaseMs) {
        await this.#connection.send(['XGROUP', 'DELCONSUMER', stream, this.group, name], { key: stream })
      }
    }
  }

  async #read(owned: Array<[number, OwnedPartition]>): Promise<StreamEntry[]> {
    const reader = this.#reader!
    const streams = owned.map(([, o]) => o.stream)
    const byStream = new Map(owned.map(([p, o]) => [o.stream, p]))
    const { blockMs, batchSize } = this.#bus.options
    const reply = await reader.send<unknown>(
      ['XREADGROUP', 'GROUP', this.group, this.consumerId, 'COUNT', String(batchSize), 'BLOCK', String(blockMs), 'STREAMS', ...streams, ...streams.map(() => '>')],
      { key: streams[0], timeoutMs: blockMs + reader.options.commandTimeoutMs + 1000 },
    )
    const entries: StreamEntry[] = []
    if (!reply) return entries
    const perStream: Array<[string, Array<[string, string[] | null]>]> =
      reply instanceof Map ? [...(reply as Map<string, Array<[string, string[] | null]>>)] : (reply as Array<[string, Array<[string, string[] | null]>]>)
    for (const [stream, items] of perStream) {
      const partition = byStream.get(String(stream))
      if (partition === undefined) continue
      for (const [id, fields] of items) entries.push({ partition, id: String(id), fields, deliveries: 1 })
    }
    return entries
  }

  /** Handles one entry and acknowledges it. False when the loop must stop reading this batch (closing, lease lost). */
  async #handle(entry: StreamEntry): Promise<boolean> {
    if (this.#closing || !this.#owned.has(entry.partition)) return false
    const stream = this.#keys.stream(entry.partition)
    const fields = new Map<string, string>()
    for (let i = 0; entry.fields && i + 1 < entry.fields.length; i += 2) fields.set(String(entry.fields[i]), String(entry.fields[i + 1]))
    const key = fields.get('k')
    const value = fields.get('v')
    if (key === undefined || value === undefined) {
      // Trimmed away while pending, or written by something else: nothing to deliver.
      this.#bus.logger.error(`bus ${this.topic} [${this.group}]: entry ${entry.id} of partition ${entry.partition} has no k/v fields; acknowledging it`)
      await this.#ack(stream, entry.id)
      return true
    }
    const id = `${entry.partition}/${entry.id}`
    const current = deliver(
      {
        topic: this.topic,
        group: this.group,
        handler: this.#handler,
        options: this.#options,
        logger: this.#bus.logger,
        deadLetter: (record) => this.#bus.publishRaw(this.#bus.deadLetterTopic(this.topic), record.key, JSON.stringify(record)),
        signal: this.#abort.signal,
      },
      { key, value, id, timestamp: Number(entry.id.split('-')[0]), attempt: entry.deliveries },
    )
    this.#current = current
    const outcome = await current
    this.#current = undefined
    if (this.#abandoned || outcome === 'abandoned') return false
    await this.#ack(stream, entry.id)
    return true
  }

  async #ack(stream: string, id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#connection.send(['XACK', stream, this.group, id], { key: stream })
        return
      } catch (error) {
        // Still pending: a later sweep (or the next owner) delivers it again, which at-least-once allows.
        if (attempt >= 3 || this.#closing) return this.#logError(`XACK ${id} failed`, error)
        await sleep(200 * attempt)
      }
    }
  }

  #logError(what: string, error: unknown): void {
    if (this.#errorLogged) return
    this.#errorLogged = true
    this.#bus.logger.warn({ err: error, topic: this.topic, group: this.group }, `bus ${this.topic} [${this.group}]: ${what}: ${(error as Error).message}; retrying`)
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort()
      clearInterval(this.#timer)
      const current = this.#current
      if (current && !(await settlesWithin(current, this.#options.closeTimeoutMs))) this.#abandoned = true
      await this.#reader?.close().catch(() => {})
      // An abandoned handler may never settle: then the loop is left behind (it acknowledges nothing more).
      if (!this.#abandoned) await this.#loop?.catch(() => {})
      await this.#ticking
      // Hand the partitions back at once so other members take them without waiting for the leases to expire.
      for (const partition of this.#owned.keys()) {
        await this.#connection.evalScript(releaseScript, [this.#keys.lease(this.group, partition)], [this.consumerId]).catch(() => {})
      }
      this.#owned.clear()
      const members = this.#keys.members(this.group)
      await this.#connection.send(['ZREM', members, this.consumerId], { key: members }).catch(() => {})
      this.#onClosed(this)
    })()
    return this.#closing
  }
}
