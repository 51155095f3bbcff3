// The slice of node-redis this layer drives: narrow structural types for its single, cluster and Sentinel clients
// (node-redis' generic types are too wide to pass around), an adapter that makes a Sentinel client look like a
// single one, and the helpers that close a client and wrap one as a subscriber.
import type { RedisArg, RedisSubscriber } from './types.ts'

/** A node-redis MULTI builder, reduced to what `transaction()` uses. */
export interface NodeMulti {
  addCommand(args: readonly RedisArg[]): NodeMulti
  exec(): Promise<unknown[]>
}

export interface ClusterMulti {
  addCommand(firstKey: RedisArg | undefined, isReadonly: boolean | undefined, args: readonly RedisArg[]): ClusterMulti
  exec(): Promise<unknown[]>
}

/** The part of a node-redis client this layer uses; node-redis' generic types are too wide to pass around. */
export interface NodeClient {
  multi(): NodeMulti
  sendCommand(args: readonly RedisArg[], options?: { timeout?: number }): Promise<unknown>
  connect(): Promise<unknown>
  close?(): Promise<unknown>
  destroy?(): void
  quit?(): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  isReady: boolean
  isOpen: boolean
  duplicate(overrides?: object): NodeClient
  subscribe(channels: string | string[], listener: (message: string, channel: string) => void): Promise<void>
  unsubscribe(channels?: string | string[], listener?: (message: string, channel: string) => void): Promise<void>
  pSubscribe(patterns: string | string[], listener: (message: string, channel: string) => void): Promise<void>
  pUnsubscribe(patterns?: string | string[], listener?: (message: string, channel: string) => void): Promise<void>
  sSubscribe?(channels: string | string[], listener: (message: string, channel: string) => void): Promise<void>
  sUnsubscribe?(channels?: string | string[], listener?: (message: string, channel: string) => void): Promise<void>
}

export interface ClusterClient {
  multi(routing?: RedisArg): ClusterMulti
  sendCommand(firstKey: RedisArg | undefined, isReadonly: boolean | undefined, args: readonly RedisArg[], options?: { timeout?: number }): Promise<unknown>
  connect(): Promise<unknown>
  close?(): Promise<unknown>
  destroy?(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  isOpen: boolean
  masters: Array<{ host: string; port: number }>
  nodeClient(node: unknown): NodeClient | Promise<NodeClient>
  duplicate(overrides?: object): ClusterClient
  subscribe(channels: string | string[], listener: (message: string, channel: string) => void): Promise<void>
  unsubscribe(channels?: string | string[], listener?: (message: string, channel: string) => void): Promise<void>
  pSubscribe(patterns: string | string[], listener: (message: string, channel: string) => void): Promise<void>
  pUnsubscribe(patterns?: string | string[], listener?: (message: string, channel: string) => void): Promise<void>
  sSubscribe(channels: string | string[], listener: (message: string, channel: string) => void): Promise<void>
  sUnsubscribe(channels?: string | string[], listener?: (message: string, channel: string) => void): Promise<void>
}

/** node-redis' Sentinel client: the same calls as a client, but commands and MULTI take a read-only flag first. */
export interface SentinelClient {
  sendCommand(isReadonly: boolean | undefined, args: readonly RedisArg[]): Promise<unknown>
  multi(): { addCommand(isReadonly: boolean | undefined, args: readonly RedisArg[]): unknown; exec(): Promise<unknown[]> }
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  isReady: boolean
  isOpen: boolean
  subscribe: NodeClient['subscribe']
  unsubscribe: NodeClient['unsubscribe']
  pSubscribe: NodeClient['pSubscribe']
  pUnsubscribe: NodeClient['pUnsubscribe']
}

/** Presents a Sentinel client as a NodeClient; `make` opens another one for duplicate() (it has none of its own). */
export function sentinelAdapter(sentinel: SentinelClient, make: () => SentinelClient): NodeClient {
  return {
    sendCommand: (args) => sentinel.sendCommand(false, args),
    multi: () => {
      const multi = sentinel.multi()
      const adapted: NodeMulti = {
        addCommand: (args) => {
          multi.addCommand(false, args)
          return adapted
        },
        exec: () => multi.exec(),
      }
      return adapted
    },
    connect: () => sentinel.connect(),
    close: () => sentinel.close(),
    destroy: () => sentinel.destroy(),
    on: (event, listener) => sentinel.on(event, listener),
    get isReady() {
      return sentinel.isReady
    },
    get isOpen() {
      return sentinel.isOpen
    },
    duplicate: () => sentinelAdapter(make(), make),
    subscribe: (channels, listener) => sentinel.subscribe(channels, listener),
    unsubscribe: (channels, listener) => sentinel.unsubscribe(channels, listener),
    pSubscribe: (patterns, listener) => sentinel.pSubscribe(patterns, listener),
    pUnsubscribe: (patterns, listener) => sentinel.pUnsubscribe(patterns, listener),
  }
}

export async function closeClient(client: { close?(): Promise<unknown>; destroy?(): void; quit?(): Promise<unknown>; isOpen: boolean }): Promise<void> {
  try {
    if (client.isOpen && client.close) await client.close()
    else client.destroy?.()
  } catch {
    client.destroy?.()
  }
}

export function wrapSubscriber(
  client: Pick<NodeClient, 'subscribe' | 'unsubscribe' | 'pSubscribe' | 'pUnsubscribe' | 'sSubscribe' | 'sUnsubscribe'>,
  sharded: boolean,
  close: () => Promise<void>,
): RedisSubscriber {
  return {
    subscribe: (channel, listener) => client.subscribe(channel, listener),
    unsubscribe: (channel, listener) => client.unsubscribe(channel, listener),
    pSubscribe: (pattern, listener) => client.pSubscribe(pattern, listener),
    pUnsubscribe: (pattern, listener) => client.pUnsubscribe(pattern, listener),
    sSubscribe: (channel, listener) =>
      sharded && client.sSubscribe ? client.sSubscribe(channel, listener) : client.subscribe(channel, listener),
    sUnsubscribe: (channel, listener) =>
      sharded && client.sUnsubscribe ? client.sUnsubscribe(channel, listener) : client.unsubscribe(channel, listener),
    close,
  }
}
