// skalds/cache: the Cache Memory layer.
export {}
export * from './pubsub/index.ts'
export * from './session/index.ts'
export * from './bloom/index.ts'
export * from './refresh/index.ts'
