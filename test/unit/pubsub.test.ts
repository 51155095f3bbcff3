// The pub/sub contract on the in-process transport.
import { MemoryPubSub, MemoryPubSubBus } from '../../src/coordination/pubsub/index.ts'
import { silentLogger } from '../../src/config/logger.ts'
import { pubsubContract } from '../contracts/pubsub-contract.ts'

pubsubContract('memory', () => {
  const bus = new MemoryPubSubBus({ logger: silentLogger })
  const publisher = new MemoryPubSub({ bus, logger: silentLogger })
  const subscriber = new MemoryPubSub({ bus, logger: silentLogger })
  return Promise.resolve({
    publisher,
    subscriber,
    cleanup: async () => {
      await publisher.close()
      await subscriber.close()
    },
  })
})
