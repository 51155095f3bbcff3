// skalds/cache: the Cache Memory layer.
export {}
export * from './proxy/index.ts'
