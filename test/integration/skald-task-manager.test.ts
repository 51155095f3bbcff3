// The node-mode TaskWorkerManager on real servers, one contract (test/contracts/skald-node-contract.ts) over each
// bus and both stores: Redis Streams + MongoDB, Kafka + SQLite (a temp file), Kafka + MongoDB (FerretDB or mongod).
// Every run is isolated on the shared servers: a Redis key prefix, a Kafka topic prefix, its own database or file.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { MongoClient } from 'mongodb'
import { KafkaBus } from '../../src/bus/kafka.ts'
import { RedisStreamsBus } from '../../src/bus/redis-streams.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { RedisConnection } from '../../src/redis/connection.ts'
import { MongoTaskStore } from '../../src/store/mongo-task-store.ts'
import { SqliteTaskStore } from '../../src/store/sqlite-task-store.ts'
import type { TaskStore } from '../../src/store/task-store.ts'
import { skaldNodeContract, type SkaldNodeHarness } from '../contracts/skald-node-contract.ts'
import { deleteKeysWithPrefix } from '../helpers/delete-keys.ts'
import { TopicPrefixedBus } from '../helpers/prefixed-bus.ts'
import { kafkaBrokers, mongoUrl, redis8Url, uniquePrefix } from '../helpers/servers.ts'

type Stores = Pick<SkaldNodeHarness, 'openStore' | 'cleanup'>

/** A database of its own per run, dropped at the end. */
function mongoStores(): Stores {
  const url = mongoUrl()
  const dbName = `skalds_test_node_${process.pid}_${randomUUID().slice(0, 8)}`
  return {
    openStore: () => MongoTaskStore.connect({ url, dbName }),
    cleanup: async () => {
      const client = await MongoClient.connect(url)
      await client.db(dbName).dropDatabase()
      await client.close()
    },
  }
}

/** One SQLite file per run, in WAL mode, shared by every connection (node or test) as by processes on one host. */
function sqliteStores(): Stores {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-node-'))
  const path = join(dir, 'tasks.db')
  return {
    openStore: (): Promise<TaskStore> => Promise.resolve(SqliteTaskStore.open({ path })),
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  }
}

/** Redis Streams under a key prefix of its own, so its streams and groups are the run's alone. */
function redisStreams(stores: Stores): SkaldNodeHarness {
  const prefix = uniquePrefix('node')
  const connections: RedisConnection[] = []
  const connect = async (): Promise<RedisConnection> => {
    const connection = await RedisConnection.connect({ url: redis8Url(), keyPrefix: prefix, commandTimeoutMs: 3000, logger: silentLogger })
    connections.push(connection)
    return connection
  }
  return {
    openBus: async () => new RedisStreamsBus({ connection: await connect(), blockMs: 200, logger: silentLogger }),
    openStore: stores.openStore,
    cleanup: async () => {
      await deleteKeysWithPrefix(connections[0]!, prefix)
      await Promise.all(connections.map((c) => c.close()))
      await stores.cleanup()
    },
  }
}

/**
 * Kafka with the node's fixed topic names (`task.assign`, …) under a prefix of the run's own: runs on the shared
 * broker never see each other's events; the run's topics are deleted at the end. Short timeouts as in bus-kafka.test.ts.
 */
function kafka(stores: Stores): SkaldNodeHarness {
  const prefix = `skald-node-test.${randomUUID().slice(0, 8)}.`
  return {
    openBus: () =>
      Promise.resolve(
        new TopicPrefixedBus(new KafkaBus({ brokers: kafkaBrokers(), sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100, logger: silentLogger }), prefix),
      ),
    openStore: stores.openStore,
    cleanup: async () => {
      const admin = new Admin({ clientId: 'skald-node-test-cleanup', bootstrapBrokers: [kafkaBrokers()] })
      try {
        const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
        if (topics.length > 0) await admin.deleteTopics({ topics })
      } finally {
        await admin.close()
      }
      await stores.cleanup()
    },
  }
}

skaldNodeContract('Redis Streams + MongoDB', () => Promise.resolve(redisStreams(mongoStores())))
skaldNodeContract('Kafka + SQLite', () => Promise.resolve(kafka(sqliteStores())))
skaldNodeContract('Kafka + MongoDB', () => Promise.resolve(kafka(mongoStores())))
