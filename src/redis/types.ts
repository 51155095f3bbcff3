// The types a connection and the node-redis client adapters share, in a module of their own so that neither
// imports the other (connection.ts re-exports them).

export type RedisArg = string | Buffer
export type Reply = unknown

export type MessageListener = (message: string, channel: string) => void

/** A dedicated pub/sub connection. node-redis resubscribes it after a reconnect. */
export interface RedisSubscriber {
  subscribe(channel: string, listener: MessageListener): Promise<void>
  unsubscribe(channel: string, listener?: MessageListener): Promise<void>
  pSubscribe(pattern: string, listener: MessageListener): Promise<void>
  pUnsubscribe(pattern: string, listener?: MessageListener): Promise<void>
  /** Sharded pub/sub (SSUBSCRIBE) where the server has it, plain SUBSCRIBE otherwise. */
  sSubscribe(channel: string, listener: MessageListener): Promise<void>
  sUnsubscribe(channel: string, listener?: MessageListener): Promise<void>
  close(): Promise<void>
}
