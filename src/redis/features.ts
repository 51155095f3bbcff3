// What the server can do, probed once per connection: version, native hash-field TTL, RedisBloom, sharded pub/sub.

export interface RedisFeatures {
  /** `redis` or `valkey` */
  server: 'redis' | 'valkey'
  /** the server's version string, e.g. `8.0.2` */
  version: string
  major: number
  minor: number
  /** HEXPIRE / HPEXPIRE / HTTL family (Redis >= 7.4, Valkey >= 9): per-field TTL without emulation */
  hashFieldTtl: boolean
  /** BF.* commands (RedisBloom module, built into Redis 8 with modules) */
  bloom: boolean
  /** SPUBLISH / SSUBSCRIBE (Redis >= 7.0) */
  shardedPubSub: boolean
  /** the node reports cluster_enabled:1 */
  clusterEnabled: boolean
}

/** Reads `key:value` lines of an INFO reply into a map. */
export function parseInfo(reply: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of reply.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return map
}

type Send = (args: string[]) => Promise<unknown>

/** Probes one node. `send` must talk to that node (any node of a cluster answers the same). */
export async function probeFeatures(send: Send): Promise<RedisFeatures> {
  const info = parseInfo(String(await send(['INFO', 'server'])))
  const cluster = parseInfo(String(await send(['INFO', 'cluster'])))
  const isValkey = info.has('valkey_version') || info.get('server_name') === 'valkey'
  const version = (isValkey ? info.get('valkey_version') : undefined) ?? info.get('redis_version') ?? '0.0.0'
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10))
  const versionSaysHfe = isValkey ? major >= 9 : major > 7 || (major === 7 && minor >= 4)
  // Trust the command table over the version: forks and patched builds differ.
  const hashFieldTtl = versionSaysHfe && (await commandExists(send, 'HPEXPIRE'))
  const bloom = await commandExists(send, 'BF.ADD')
  return {
    server: isValkey ? 'valkey' : 'redis',
    version,
    major,
    minor,
    hashFieldTtl,
    bloom,
    shardedPubSub: major >= 7,
    clusterEnabled: cluster.get('cluster_enabled') === '1',
  }
}

async function commandExists(send: Send, name: string): Promise<boolean> {
  try {
    const reply = await send(['COMMAND', 'INFO', name])
    return Array.isArray(reply) && reply.length > 0 && reply[0] !== null
  } catch {
    return false
  }
}
