// skalds/coordination: the toolkit for processes that share a Redis (or one process, on the memory
// implementations): distributed locks, rate limits, sessions, typed pub/sub, Bloom filters, scheduled refresh.
// Each folder's index lists what its docs page documents; helpers (hashing, cookies, bit positions) stay inside.
export * from './lock/index.ts'
export * from './rate-limit/index.ts'
export * from './session/index.ts'
export * from './pubsub/index.ts'
export * from './bloom/index.ts'
export * from './refresh/index.ts'
