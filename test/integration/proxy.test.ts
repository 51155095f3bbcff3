// The RedisProxy contract on every Redis flavour: Redis 8 (native hash-field TTL), Redis 7.0 (Lua emulation),
// a 3-master Redis 8 cluster, and that cluster again with the emulation forced (same-slot TTL indexes).
import { redisTargets } from '../helpers/servers.ts'
import { proxyContract } from '../contracts/proxy-contract.ts'

for (const target of redisTargets()) {
  proxyContract(target, { expectedMode: target.name === 'redis7-legacy' ? 'emulated' : 'native' })
  if (target.clusterNodes) {
    proxyContract({ ...target, name: `${target.name}-emulated` }, { expectedMode: 'emulated', proxy: { hashFieldTtl: 'emulated' } })
  }
}
