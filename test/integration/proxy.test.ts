// The RedisProxy contract on every Redis flavour: Redis 8 (native hash-field TTL), Redis 7.0 (Lua emulation),
// a 3-master Redis 8 cluster, and that cluster again with the emulation forced (same-slot TTL indexes). The wire
// shape (the real `skalds:hash`) on throwaway servers of the same flavours, never on the shared ones.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisTargets } from '../helpers/servers.ts'
import { rawBulk, rawCommand, RedisProcess, redisLegacyServerBin } from '../helpers/redis-process.ts'
import { waitFor } from '../helpers/wait.ts'
import { proxyContract, proxyWireShape, type ThrowawayTarget } from '../contracts/proxy-contract.ts'

for (const target of redisTargets()) {
  proxyContract(target, { expectedMode: target.name === 'redis7-legacy' ? 'emulated' : 'native' })
  if (target.clusterNodes) {
    proxyContract({ ...target, name: `${target.name}-emulated` }, { expectedMode: 'emulated', proxy: { hashFieldTtl: 'emulated' } })
  }
}

async function single(name: string, bin?: string): Promise<ThrowawayTarget> {
  const server = await RedisProcess.start([], undefined, bin)
  return { target: { name, url: server.url }, stop: () => server.kill() }
}

/** A one-master Redis 8 cluster holding every slot: the cluster client's path, on a server of our own. */
async function cluster(name: string): Promise<ThrowawayTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'skalds-proxy-cluster-'))
  const server = await RedisProcess.start(['--cluster-enabled', 'yes', '--dir', dir])
  const stop = async (): Promise<void> => {
    await server.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const added = await rawCommand(server.port, 'CLUSTER ADDSLOTSRANGE 0 16383')
    if (added !== '+OK') throw new Error(`CLUSTER ADDSLOTSRANGE answered ${added}`)
    await waitFor(async () => /cluster_state:ok/.test(await rawBulk(server.port, 'CLUSTER INFO')), 'the one-node cluster to be ok', 20_000, 100)
  } catch (error) {
    await stop()
    throw error
  }
  return { target: { name, clusterNodes: [`127.0.0.1:${server.port}`] }, stop }
}

proxyWireShape('redis8', () => single('redis8'), { expectedMode: 'native' })
proxyWireShape('redis7-legacy', () => single('redis7-legacy', redisLegacyServerBin()), { expectedMode: 'emulated' })
proxyWireShape('cluster', () => cluster('cluster'), { expectedMode: 'native' })
proxyWireShape('cluster-emulated', () => cluster('cluster-emulated'), { expectedMode: 'emulated', proxy: { hashFieldTtl: 'emulated' } })
