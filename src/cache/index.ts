// skalds/cache: the Cache Memory layer.
export {}
export * from './service/index.ts'
export { escapeGlob } from './glob.ts'
