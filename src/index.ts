// Public entry of the `skalds` package. Subsystems are also reachable through their own subpaths (`skalds/redis`, `skalds/cache`, ...).
export * as redis from './redis/index.ts'
export * as cache from './cache/index.ts'
export * as coordination from './coordination/index.ts'
export * as model from './model/index.ts'
export * as store from './store/index.ts'
export * as bus from './bus/index.ts'
